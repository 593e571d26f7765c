/**
 * `tcpstate-exporter doctor`: two samples a window apart, the checks, and a text or JSON
 * report. Exit status: 0 analysed, 1 socket tables unreadable, 2 bad flags, 3 a finding
 * at or above --fail-on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type FlagTable, parseDuration, parseFlags } from '../cli/flag-parser.js';
import { EXPORTER_FLAGS } from '../cli/flags.js';
import { formatHelp, type HelpText } from '../cli/help.js';
import { DEFAULT_SAMPLE_OPTIONS } from '../snapshot/model.js';
import { createSampler } from '../snapshot/sample.js';
import { analyse } from './analyse.js';
import { FINDING_IDS, hasFindingAtLeast } from './finding.js';
import { buildReport } from './report.js';
import { formatText } from './text.js';

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_BAD_FLAGS = 2;
export const EXIT_FINDINGS = 3;

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

export interface DoctorIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

export async function runDoctor(argv: string[], io: DoctorIo): Promise<number> {
  const parsed = parseFlags(DOCTOR_FLAGS, argv);
  if (!parsed.ok) {
    await write(
      io.stderr,
      `tcpstate-exporter doctor: ${parsed.error.message}\nRun \`tcpstate-exporter doctor --help\` for the flags.\n`,
    );
    return EXIT_BAD_FLAGS;
  }
  const flags = parsed.values;
  if (flags.help) {
    await write(io.stdout, formatHelp(DOCTOR_FLAGS, DOCTOR_HELP));
    return EXIT_OK;
  }
  const windowMs = parseWindow(flags.window) ?? 0;
  const sampler = createSampler({ ...DEFAULT_SAMPLE_OPTIONS, procfsRoot: flags.procfsRoot });

  const first = sampler.sample();
  let second = first;
  if (first.sockets !== undefined && windowMs > 0) {
    await sleep(windowMs);
    second = sampler.sample();
  }
  const sockets = second.sockets;
  if (sockets === undefined) {
    const error = second.sources.sockets?.error ?? 'not read';
    await write(io.stderr, `tcpstate-exporter doctor: cannot read the socket tables: ${error}\n`);
    return EXIT_UNREADABLE;
  }

  const windowSeconds = windowMs / 1000;
  const analysis = analyse(first, second, windowSeconds);
  const report = buildReport(first, { ...second, sockets }, windowSeconds, analysis);
  await write(
    io.stdout,
    flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatText(report),
  );
  if (flags.failOn !== 'never' && hasFindingAtLeast(report.findings, flags.failOn)) {
    return EXIT_FINDINGS;
  }
  return EXIT_OK;
}
