/**
 * The exporter's flags: the one source for parsing, `--help` and the README flag table.
 * The collector flags come from the collector registry.
 */

import {
  type FlagTable,
  type FlagValues,
  formatFlagValues,
  type ListenAddress,
  parseFlags,
} from '../cli/flag-parser.js';
import type { HelpText } from '../cli/help.js';
import type { AnyCollector, CollectorSet } from '../collectors/collector-set.js';
import { type CollectorName, REGISTRY } from '../collectors/registry.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log.js';
import type { SampleOptions } from '../snapshot/model.js';

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

/** The flags before the collectors' ones. */
const SERVING_FLAGS = {
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
    // Empty would read /net/tcp: a usage error, not a missing file at start-up.
    validate: (path: string) => (path === '' ? 'a directory such as /proc' : undefined),
  },
  sampleInterval: {
    name: 'sample.interval',
    kind: 'duration',
    default: 5000,
    max: 24 * 3_600_000,
    maxReason: 'a sample may run 6 intervals, within what timers hold',
    help: 'Time between two samples; scrapes serve the latest one.',
  },
} as const satisfies FlagTable;

/** The flags after the collectors' ones. */
const RUN_FLAGS = {
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

/**
 * The exporter's flag table for a set of collectors: their `--collector.<name>` switches,
 * then their own flags, between the serving and the run flags.
 */
export function exporterFlags<List extends readonly AnyCollector[]>(
  collectors: CollectorSet<List>,
) {
  return {
    ...SERVING_FLAGS,
    ...collectors.enableFlags,
    ...collectors.optionFlags,
    ...RUN_FLAGS,
  } satisfies FlagTable;
}

export const EXPORTER_FLAGS = exporterFlags(REGISTRY);

export const EXPORTER_HELP: HelpText = {
  usage: ['tcpstate-exporter [<flags>]', 'tcpstate-exporter doctor [<flags>]'],
  summary:
    'Prometheus exporter for Linux TCP socket states, per-port counts and ephemeral-port headroom per destination.',
  footer: ['Run `tcpstate-exporter doctor --help` for the diagnosis subcommand.'],
};

type ExporterFlagValues = FlagValues<typeof EXPORTER_FLAGS>;

/** The values of the collectors' own flags (`--collector.ports.max-listen`...), by config key. */
export type CollectorOptions = FlagValues<typeof REGISTRY.optionFlags>;

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
  readonly collectorOptions: CollectorOptions;
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
    collectors: REGISTRY.enabled(values),
    collectorOptions: pickKeys(values, REGISTRY.optionFlags),
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

/** The values of `table`'s flags among all the parsed values. */
function pickKeys<Table extends FlagTable>(
  values: ExporterFlagValues,
  table: Table,
): FlagValues<Table> {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(table)) picked[key] = values[key as keyof ExporterFlagValues];
  return picked as FlagValues<Table>;
}

/** The engine options for a configuration: the sources its collectors read, their limits. */
export function sampleOptionsFor(config: ExporterConfig): SampleOptions {
  return {
    procfsRoot: config.procfsRoot,
    sources: REGISTRY.sourcePlan(config.collectors),
    ...config.collectorOptions,
  };
}
