/**
 * `tcpstate-exporter doctor`: two samples a window apart, the checks, and a text or JSON
 * report. Exit status: 0 analysed, 1 socket tables unreadable, 2 bad flags, 3 a finding
 * at or above --fail-on.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FlagTable, parseDuration, parseFlags } from '../cli/flag-parser.js';
import { formatHelp, type HelpText } from '../cli/help.js';
import { CONNECT_ERRORS_STREAM } from '../collectors/connect-errors.js';
import { doctorSampleOptions } from '../config/defaults.js';
import { EXIT } from '../config/exit-codes.js';
import { EXPORTER_FLAGS } from '../config/flags.js';
import { analyse } from '../doctor/analyse.js';
import { FINDING_IDS, hasFindingAtLeast } from '../doctor/finding.js';
import { buildReport } from '../doctor/report.js';
import { formatText } from '../doctor/text.js';
import { createSampler } from '../snapshot/sample.js';
import { type ConnectErrorCounts, ConnectErrorStream } from '../sources/connect-errors.js';
import { DEFAULT_TRACEFS } from '../sources/tracefs-instance.js';
import { type CommandIo, writeProblem, writeText } from './io.js';

const PROGRAM = 'tcpstate-exporter doctor';

/** Longer windows are almost always a typo (2m for 2s); a doctor run should be quick. */
const MAX_WINDOW_MS = 5 * 60_000;

/** `0` (one sample, no counter checks) or a duration up to MAX_WINDOW_MS. */
function parseWindow(text: string): number | undefined {
  if (text === '0') return 0;
  const ms = parseDuration(text);
  return ms === undefined || ms > MAX_WINDOW_MS ? undefined : ms;
}

export const DOCTOR_FLAGS = {
  procfsRoot: EXPORTER_FLAGS.procfsRoot,
  // snat-ports-low's usable count where the NAT rules cannot be listed (as the collector's).
  snatUsablePorts: EXPORTER_FLAGS.snatUsablePorts,
  window: {
    name: 'window',
    kind: 'string',
    default: '2s',
    placeholder: 'DURATION',
    help: 'Time between the two samples that give the kernel counters a rate; 0 takes one sample and skips the counter checks.',
    validate: (text: string) =>
      parseWindow(text) === undefined ? 'a duration like 500ms or 2s, at most 5m, or 0' : undefined,
  },
  format: {
    name: 'format',
    kind: 'enum',
    choices: ['text', 'json'],
    default: 'text',
    help: 'Output format; json follows the schema in src/doctor/output-schema.ts.',
  },
  failOn: {
    name: 'fail-on',
    kind: 'enum',
    choices: ['never', 'warning', 'critical'],
    default: 'never',
    help: 'Exit with status 3 when a finding at or above this severity exists.',
  },
  help: EXPORTER_FLAGS.help,
} as const satisfies FlagTable;

export const DOCTOR_HELP: HelpText = {
  usage: ['tcpstate-exporter doctor [<flags>]'],
  summary:
    "Explains this network namespace's TCP state: the netstat state tally, sockets per port, ephemeral-port use per destination, kernel counters over a short window, and findings with the exact fix.",
  footer: [
    `Findings: ${FINDING_IDS.join(', ')}.`,
    'Exit status: 0 analysed (whatever was found), 1 socket tables unreadable, 2 bad flags, 3 a finding at or above --fail-on.',
  ],
};

/** How often doctor drains the failures while it waits. */
const FAILURE_POLL_MS = 200;

/**
 * Counts connect() and bind() failures in doctor's own network namespace while it waits
 * (docs/connect-errors.md); where it may not trace, finish() says why.
 */
function startFailureCount(procfsRoot: string): {
  watch(ms: number): Promise<void>;
  finish(): ConnectErrorCounts;
} {
  let stream: ConnectErrorStream;
  try {
    stream = ConnectErrorStream.start({
      procfsRoot,
      tracefsPath: DEFAULT_TRACEFS,
      // The exporter's --path.pod-logs default; doctor reports its own namespace by inode.
      podLogsDir: '/var/log',
      // Every namespace apart, so that the first ones to fail never crowd doctor's own out.
      maxNamespaces: 100_000,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed = { series: [], lostEvents: 0, pollSeconds: 0, error: message };
    return { watch: (ms) => sleep(ms), finish: () => failed };
  }
  const own = String(statSync(join(procfsRoot, 'self/ns/net')).ino);
  return {
    async watch(ms) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        stream.poll();
        await sleep(Math.min(FAILURE_POLL_MS, Math.max(0, end - Date.now())));
      }
    },
    finish() {
      try {
        stream.poll();
        const counts = stream.counts();
        return { ...counts, series: counts.series.filter((one) => one.netns === own) };
      } finally {
        stream.close();
      }
    },
  };
}

export async function runDoctor(argv: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseFlags(DOCTOR_FLAGS, argv);
  if (!parsed.ok) {
    await writeProblem(
      io,
      `${parsed.error.message}\nRun \`${PROGRAM} --help\` for the flags.`,
      PROGRAM,
    );
    return EXIT.usage;
  }
  const flags = parsed.values;
  if (flags.help) {
    await writeText(io.stdout, formatHelp(DOCTOR_FLAGS, DOCTOR_HELP));
    return EXIT.ok;
  }
  const windowMs = parseWindow(flags.window) ?? 0;
  const sampler = createSampler(doctorSampleOptions(flags.procfsRoot, flags.snatUsablePorts));

  // Traced on the live /proc only: a fixture tree's pids are not the kernel's.
  const failures =
    windowMs > 0 && flags.procfsRoot === '/proc' ? startFailureCount(flags.procfsRoot) : undefined;
  const first = sampler.sample();
  let second = first;
  if (first.sockets !== undefined && windowMs > 0) {
    await (failures?.watch(windowMs) ?? sleep(windowMs));
    second = sampler.sample();
  }
  const connectErrors = failures?.finish();
  if (connectErrors !== undefined) {
    // The window's counts, as the daemon's stream serves them.
    const counted = { atMs: Date.now(), result: connectErrors };
    second = { ...second, scheduled: { [CONNECT_ERRORS_STREAM.name]: counted } };
  }
  const sockets = second.sockets;
  if (sockets === undefined) {
    const error = second.sources.sockets?.error ?? 'not read';
    await writeProblem(io, `cannot read the socket tables: ${error}`, PROGRAM);
    return EXIT.failed;
  }

  const windowSeconds = windowMs / 1000;
  const analysis = analyse(first, second, windowSeconds);
  const report = buildReport(first, { ...second, sockets }, windowSeconds, analysis);
  await writeText(
    io.stdout,
    flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatText(report),
  );
  if (flags.failOn !== 'never' && hasFindingAtLeast(report.findings, flags.failOn)) {
    return EXIT.findings;
  }
  return EXIT.ok;
}
