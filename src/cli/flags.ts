/** The exporter's flags: the one source for parsing, `--help` and the README flag table. */
import {
  COLLECTOR_NAMES,
  COLLECTOR_SOURCE,
  type CollectorName,
} from '../metrics/collector-names.js';
import type { SampleOptions, SourceName } from '../snapshot/model.js';
import {
  type FlagTable,
  type FlagValues,
  formatFlagValues,
  type ListenAddress,
  parseFlags,
} from './flag-parser.js';
import type { HelpText } from './help.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMATS = ['json', 'logfmt'] as const;

function telemetryPathProblem(path: string): string | undefined {
  if (!path.startsWith('/') || path === '/' || path.startsWith('/-/') || /[\s?#]/.test(path)) {
    return 'a path like /metrics (starting with /, not / or /-/..., no spaces, ? or #)';
  }
  if (path.startsWith('/static/') || path.startsWith('/api/')) {
    return 'a path outside /static/ and /api/, which serve the landing page';
  }
  return undefined;
}

/** 0 or more; the parser's positiveInteger kind rejects 0, which means "no limit" here. */
function countProblem(text: string): string | undefined {
  return /^\d{1,9}$/.test(text) ? undefined : 'a whole number, 0 for no limit';
}

export const EXPORTER_FLAGS = {
  listenAddress: {
    name: 'web.listen-address',
    kind: 'listenAddress',
    default: ':10120',
    help: 'Address on which to expose metrics and the web interface.',
  },
  telemetryPath: {
    name: 'web.telemetry-path',
    kind: 'string',
    default: '/metrics',
    placeholder: 'PATH',
    help: 'Path under which to expose metrics.',
    validate: telemetryPathProblem,
  },
  webConfigFile: {
    name: 'web.config.file',
    kind: 'string',
    default: '',
    placeholder: 'FILE',
    help: 'Web configuration file (exporter-toolkit format): TLS, client certificates, basic auth, headers. Reloaded on change.',
  },
  maxRequests: {
    name: 'web.max-requests',
    kind: 'string',
    default: '40',
    placeholder: 'N',
    help: 'Requests served at once; more get 503 (health and readiness probes excepted). 0 for no limit.',
    validate: countProblem,
  },
  procfsRoot: {
    name: 'path.procfs',
    kind: 'string',
    default: '/proc',
    placeholder: 'DIR',
    help: 'procfs mountpoint; /proc/<pid> reads the network namespace of that process.',
  },
  sampleInterval: {
    name: 'sample.interval',
    kind: 'duration',
    default: 5000,
    max: 24 * 3_600_000,
    maxReason: 'a sample may run 6 intervals, within what timers hold',
    help: 'Time between two samples; scrapes serve the latest one.',
  },
  collectorSockets: {
    name: 'collector.sockets',
    kind: 'boolean',
    default: true,
    help: 'Socket counts by family and state (tcpstate_sockets).',
  },
  collectorPorts: {
    name: 'collector.ports',
    kind: 'boolean',
    default: true,
    help: 'Socket counts by listening port and by remote port.',
  },
  collectorEphemeral: {
    name: 'collector.ephemeral',
    kind: 'boolean',
    default: true,
    help: 'Ephemeral port use and headroom per destination.',
  },
  collectorSockstat: {
    name: 'collector.sockstat',
    kind: 'boolean',
    default: true,
    help: 'Kernel socket totals from net/sockstat and net/sockstat6.',
  },
  collectorNetstat: {
    name: 'collector.netstat',
    kind: 'boolean',
    default: true,
    help: 'TIME_WAIT, PAWS, listen queue and open counters from net/netstat and net/snmp.',
  },
  collectorSysctl: {
    name: 'collector.sysctl',
    kind: 'boolean',
    default: true,
    help: 'The TCP sysctls that matter for TIME_WAIT and port exhaustion.',
  },
  maxListenPorts: {
    name: 'collector.ports.max-listen',
    kind: 'positiveInteger',
    default: 64,
    max: 1000,
    maxReason: 'each port adds up to 11 series',
    help: 'Listening ports reported one by one; the rest are summed into port="other".',
  },
  topRemotePorts: {
    name: 'collector.ports.top-remote',
    kind: 'positiveInteger',
    default: 20,
    max: 1000,
    maxReason: 'each port adds up to 11 series',
    help: 'Remote ports reported one by one (most sockets first); the rest in port="other".',
  },
  topDestinations: {
    name: 'collector.ephemeral.top-destinations',
    kind: 'positiveInteger',
    default: 10,
    max: 10_000,
    maxReason: 'each destination adds a few series',
    help: 'Destinations reported in tcpstate_ephemeral_ports_used (most used first).',
  },
  namespaceSysctlRefresh: {
    name: 'collector.netns.sysctl-refresh',
    kind: 'duration',
    default: 60_000,
    max: 24 * 3_600_000,
    maxReason: 'a namespace changes its sysctls rarely, and is read again when seen anew',
    help: 'How often the sysctls of a namespace entered to read them (--path.procfs=/proc/<pid>) are read again.',
  },
  logLevel: {
    name: 'log.level',
    kind: 'enum',
    choices: LOG_LEVELS,
    default: 'info',
    help: 'Only log messages at or above this level.',
  },
  logFormat: {
    name: 'log.format',
    kind: 'enum',
    choices: LOG_FORMATS,
    default: 'json',
    help: 'Log format: json for machines, logfmt for people reading a terminal.',
  },
  once: {
    name: 'once',
    kind: 'boolean',
    default: false,
    help: 'Sample once, print the exposition to stdout and exit (1 if an enabled collector failed).',
  },
  version: {
    name: 'version',
    kind: 'boolean',
    default: false,
    help: 'Print the version and exit.',
  },
  help: {
    name: 'help',
    short: 'h',
    kind: 'boolean',
    default: false,
    help: 'Show this help and exit.',
  },
} as const satisfies FlagTable;

export const EXPORTER_HELP: HelpText = {
  usage: ['tcpstate-exporter [<flags>]', 'tcpstate-exporter doctor [<flags>]'],
  summary:
    'Prometheus exporter for Linux TCP socket states, per-port counts and ephemeral-port headroom per destination.',
  footer: ['Run `tcpstate-exporter doctor --help` for the diagnosis subcommand.'],
};

type ExporterFlagValues = FlagValues<typeof EXPORTER_FLAGS>;

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The effective configuration of one exporter run. */
export interface ExporterConfig {
  readonly listenAddress: ListenAddress;
  readonly telemetryPath: string;
  /** Undefined without --web.config.file. */
  readonly webConfigFile: string | undefined;
  /** 0: no limit. */
  readonly maxRequests: number;
  readonly procfsRoot: string;
  readonly sampleIntervalMs: number;
  readonly collectors: Readonly<Record<CollectorName, boolean>>;
  readonly maxListenPorts: number;
  readonly topRemotePorts: number;
  readonly topDestinations: number;
  readonly namespaceSysctlRefreshMs: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Every flag that shapes the run, as typed (`--sample.interval` → `5s`), for logs and `/`. */
  readonly effectiveFlags: Readonly<Record<string, string>>;
}

export type ExporterCommand =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'once' | 'serve'; readonly config: ExporterConfig };

function toConfig(values: ExporterFlagValues): ExporterConfig {
  return {
    listenAddress: values.listenAddress,
    telemetryPath: values.telemetryPath,
    webConfigFile: values.webConfigFile === '' ? undefined : values.webConfigFile,
    maxRequests: Number(values.maxRequests),
    procfsRoot: values.procfsRoot,
    sampleIntervalMs: values.sampleInterval,
    collectors: {
      sockets: values.collectorSockets,
      ports: values.collectorPorts,
      ephemeral: values.collectorEphemeral,
      sockstat: values.collectorSockstat,
      netstat: values.collectorNetstat,
      sysctl: values.collectorSysctl,
    },
    maxListenPorts: values.maxListenPorts,
    topRemotePorts: values.topRemotePorts,
    topDestinations: values.topDestinations,
    namespaceSysctlRefreshMs: values.namespaceSysctlRefresh,
    logLevel: values.logLevel,
    logFormat: values.logFormat,
    effectiveFlags: runFlags(values),
  };
}

/** The flags that shape a run: all but --help, --version and --once. */
function runFlags(values: ExporterFlagValues): Record<string, string> {
  const { help: _help, version: _version, once: _once, ...shaping } = EXPORTER_FLAGS;
  const { help: _h, version: _v, once: _o, ...shapingValues } = values;
  return formatFlagValues(shaping, shapingValues);
}

export type ParsedExporterArgs =
  | { readonly ok: true; readonly command: ExporterCommand }
  | { readonly ok: false; readonly message: string };

export function parseExporterArgs(argv: readonly string[]): ParsedExporterArgs {
  const result = parseFlags(EXPORTER_FLAGS, argv);
  if (!result.ok) return { ok: false, message: result.error.message };
  const { values } = result;
  if (values.help) return { ok: true, command: { action: 'help' } };
  if (values.version) return { ok: true, command: { action: 'version' } };
  return {
    ok: true,
    command: { action: values.once ? 'once' : 'serve', config: toConfig(values) },
  };
}

/** The engine options for a configuration: a source is read when a collector needs it. */
export function sampleOptionsFor(config: ExporterConfig): SampleOptions {
  const sources: Record<SourceName, boolean> = {
    sockets: false,
    sockstat: false,
    netstat: false,
    sysctl: false,
  };
  for (const name of COLLECTOR_NAMES) {
    if (config.collectors[name]) sources[COLLECTOR_SOURCE[name]] = true;
  }
  return {
    procfsRoot: config.procfsRoot,
    maxListenPorts: config.maxListenPorts,
    topRemotePorts: config.topRemotePorts,
    topDestinations: config.topDestinations,
    sources,
  };
}
