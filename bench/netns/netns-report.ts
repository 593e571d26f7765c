/**
 * The every-namespace cost table and what it recommends for `--collector.netns.interval`
 * and `--collector.netns.max`, written from the `netns` records of a run.
 */
import { formatSize } from '../lib/options.js';
import type { BenchRecord, NetnsMeasurement, NetnsScrapeMeasurement } from '../lib/results.js';

/**
 * The CPU the netns collector may take on average, in cores, at `--collector.netns.max`
 * namespaces on the largest table measured: less than the node-level sample of the same
 * sockets every 5 s (the default --sample.interval) takes, about 4 % at 100k.
 */
export const NETNS_CPU_BUDGET = 0.02;
/** The default --sample.interval, against which the budget is put. */
const NODE_SAMPLE_SECONDS = 5;
/** Intervals a default is chosen from: round figures an operator recognises. */
const NICE_INTERVALS_SECONDS = [5, 10, 15, 30, 60, 120, 300] as const;
/** Namespace limits a default is chosen from. */
const NICE_MAXIMA = [25, 50, 100, 200, 500, 1000] as const;

const ms = (seconds: number): string => (seconds * 1000).toFixed(seconds < 0.1 ? 1 : 0);
const times = (ratio: number): string => `${ratio.toFixed(2)}×`;
const percent = (share: number): string => `${(share * 100).toFixed(1)} %`;

function netnsRecords(records: readonly BenchRecord[]): NetnsMeasurement[] {
  return records.filter((record): record is NetnsMeasurement => record.kind === 'netns');
}

function oneNamespace(rows: readonly NetnsMeasurement[], size: number) {
  return rows.find((row) => row.size === size && row.namespaces === 1);
}

function costTable(rows: readonly NetnsMeasurement[]): string {
  const header = [
    'namespaces',
    'sockets in all',
    'sockets on the machine',
    'engine CPU ms/round',
    'of it sys ms',
    'engine wall ms',
    '`cat` CPU ms',
    'engine × cat',
    'engine × one namespace',
    'CPU ms per namespace',
    'runs',
  ];
  const lines = [header, header.map(() => '---')].map((cells) => `| ${cells.join(' | ')} |`);
  const ordered = [...rows].sort((a, b) => a.size - b.size || a.namespaces - b.namespaces);
  for (const row of ordered) {
    const single = oneNamespace(rows, row.size);
    const cells = [
      String(row.namespaces),
      formatSize(row.size),
      row.machineSockets === undefined ? '' : String(row.machineSockets),
      ms(row.engine.cpuSeconds),
      ms(row.engine.systemSeconds),
      ms(row.engine.wallSeconds),
      ms(row.cat.cpuSeconds),
      times(row.engine.cpuSeconds / row.cat.cpuSeconds),
      single === undefined ? '' : times(row.engine.cpuSeconds / single.engine.cpuSeconds),
      ms(row.engine.cpuSeconds / row.namespaces),
      String(row.runs),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export interface NetnsDefaults {
  readonly intervalSeconds: number;
  readonly max: number;
  /** The round the defaults were chosen for: most namespaces on the smallest table. */
  readonly basis: NetnsMeasurement;
  /** The most namespaces on the largest table, and the interval its round needs. */
  readonly largest: NetnsMeasurement;
  readonly largestIntervalSeconds: number;
  /** CPU per further namespace per socket on the machine, from the largest table. */
  readonly secondsPerNamespaceSocket: number;
}

function mostNamespaces(rows: readonly NetnsMeasurement[], size: number) {
  return rows.filter((row) => row.size === size).sort((a, b) => b.namespaces - a.namespaces)[0];
}

/** The shortest round figure at which a round of `cpuSeconds` stays within the budget. */
function intervalFor(cpuSeconds: number): number {
  const needed = cpuSeconds / NETNS_CPU_BUDGET;
  return NICE_INTERVALS_SECONDS.find((seconds) => seconds >= needed) ?? Math.ceil(needed);
}

/**
 * Defaults for a busy node of pods, the smallest table measured with the most namespaces:
 * the shortest round interval within the budget, and the most namespaces that interval
 * affords there (the cost grows linearly with namespaces). The largest table says what a
 * bigger node needs instead.
 */
export function recommendDefaults(records: readonly BenchRecord[]): NetnsDefaults | undefined {
  const rows = netnsRecords(records);
  const sizes = rows.map((row) => row.size);
  const basis = mostNamespaces(rows, Math.min(...sizes));
  const largest = mostNamespaces(rows, Math.max(...sizes));
  if (basis === undefined || largest === undefined) return undefined;
  const intervalSeconds = intervalFor(basis.engine.cpuSeconds);
  const affordable =
    (intervalSeconds * NETNS_CPU_BUDGET) / (basis.engine.cpuSeconds / basis.namespaces);
  const max = [...NICE_MAXIMA].reverse().find((count) => count <= affordable) ?? NICE_MAXIMA[0];
  const single = oneNamespace(rows, largest.size);
  const secondsPerNamespaceSocket =
    single === undefined || largest.namespaces === 1
      ? Number.NaN
      : (largest.engine.cpuSeconds - single.engine.cpuSeconds) /
        (largest.namespaces - 1) /
        (largest.machineSockets ?? largest.size);
  return {
    intervalSeconds,
    max,
    basis,
    largest,
    largestIntervalSeconds: intervalFor(largest.engine.cpuSeconds),
    secondsPerNamespaceSocket,
  };
}

/** Sentences about the figures, written from them. */
function reading(rows: readonly NetnsMeasurement[], defaults: NetnsDefaults | undefined): string {
  const lines: string[] = [];
  for (const size of [...new Set(rows.map((row) => row.size))].sort((a, b) => a - b)) {
    const single = oneNamespace(rows, size);
    const most = rows
      .filter((row) => row.size === size)
      .sort((a, b) => b.namespaces - a.namespaces)[0];
    if (single === undefined || most === undefined || most === single) continue;
    const extra = (most.engine.cpuSeconds - single.engine.cpuSeconds) / (most.namespaces - 1);
    lines.push(
      `${formatSize(size)} sockets: one namespace holding them all costs ${ms(single.engine.cpuSeconds)} ms of CPU ` +
        `to read; spread over ${most.namespaces} namespaces, reading each costs ${ms(most.engine.cpuSeconds)} ms a round ` +
        `(${times(most.engine.cpuSeconds / single.engine.cpuSeconds)}), about ${ms(extra)} ms per further namespace, ` +
        `${((most.engine.systemSeconds / most.engine.cpuSeconds) * 100).toFixed(0)} % of it system time: ` +
        "every read walks the kernel's whole socket hash, shared by all namespaces, to print its own sockets. " +
        `\`cat\` of the same files costs ${ms(most.cat.cpuSeconds)} ms (engine ${times(most.engine.cpuSeconds / most.cat.cpuSeconds)} cat): ` +
        'the kernel producing the text is the cost, not the decoding.',
    );
  }
  if (defaults !== undefined) {
    const { basis, largest } = defaults;
    const node = oneNamespace(rows, largest.size);
    const nodeShare =
      node === undefined
        ? ''
        : `; the node-level sample of ${formatSize(largest.size)} sockets every ${NODE_SAMPLE_SECONDS} s takes ${percent(node.engine.cpuSeconds / NODE_SAMPLE_SECONDS)}`;
    lines.push(
      `Recommended from these figures: \`--collector.netns.interval=${defaults.intervalSeconds}s\` and ` +
        `\`--collector.netns.max=${defaults.max}\`, for a busy node of pods: a round over ${basis.namespaces} namespaces ` +
        `holding ${formatSize(basis.size)} sockets costs ${ms(basis.engine.cpuSeconds)} ms of CPU, every ` +
        `${defaults.intervalSeconds} s ${percent(basis.engine.cpuSeconds / defaults.intervalSeconds)} of one core, within the ` +
        `budget of ${percent(NETNS_CPU_BUDGET)}${nodeShare}; ${defaults.max} namespaces fit that budget at that interval.`,
    );
    lines.push(
      `A larger node needs a longer interval: ${largest.namespaces} namespaces holding ${formatSize(largest.size)} sockets ` +
        `cost ${ms(largest.engine.cpuSeconds)} ms a round, ${percent(largest.engine.cpuSeconds / defaults.intervalSeconds)} of a core ` +
        `every ${defaults.intervalSeconds} s; the budget needs \`--collector.netns.interval=${defaults.largestIntervalSeconds}s\` there. ` +
        `In general a round costs about namespaces × sockets on the node × ${(defaults.secondsPerNamespaceSocket * 1e6).toFixed(2)} µs ` +
        `(each read skips every other namespace's sockets), so for the same budget set the interval to at least ` +
        `namespaces × sockets × ${((defaults.secondsPerNamespaceSocket / NETNS_CPU_BUDGET) * 1e6).toFixed(0)} µs.`,
    );
  }
  return lines.map((line) => `- ${line}`).join('\n');
}

function scrapeTable(records: readonly BenchRecord[]): string {
  const rows = records.filter(
    (record): record is NetnsScrapeMeasurement => record.kind === 'netns-scrape',
  );
  if (rows.length === 0) return '';
  const header = [
    'namespaces in the table',
    'namespaces exported',
    '/metrics bytes',
    'p50 ms',
    'p99 ms',
    'requests',
    'round s',
  ];
  const lines = [header, header.map(() => '---')].map((cells) => `| ${cells.join(' | ')} |`);
  for (const row of [...rows].sort((a, b) => a.namespaces - b.namespaces)) {
    lines.push(
      `| ${[row.namespaces, row.exported, row.bodyBytes, row.latencyP50Ms, row.latencyP99Ms, row.requests, row.roundSeconds.toFixed(2)].join(' | ')} |`,
    );
  }
  return (
    `### /metrics while rounds run back to back\n\nThe daemon with \`--collector.netns --collector.netns.interval=1s\` ` +
    `on the ${formatSize(rows[0]?.size ?? 0)} tables above, scraped by autocannon (${rows[0] === undefined ? '' : 'a few connections'}) while its ` +
    'rounds run one after another in their worker: the walks never reach the scrape path; what grows is the ' +
    'exposition itself, about 51 series per namespace.\n\n' +
    lines.join('\n')
  );
}

/** The machine and how busy it was: the figures are CPU time on a shared machine. */
function machineLine(records: readonly BenchRecord[]): string {
  const machine = records.find((record) => record.kind === 'machine');
  const end = records.find((record) => record.kind === 'end');
  if (machine?.kind !== 'machine') return '';
  return (
    `Measured on ${machine.cpus} CPUs (${machine.cpuModel}), Linux ${machine.kernel}, commit ${machine.commit}, ` +
    `${machine.startedAt}; load average at start ${machine.loadAverageAtStart.join(' ')}` +
    (end?.kind === 'end'
      ? `, at end ${end.loadAverageAtEnd.join(' ')} (other work shared the machine: wall times are inflated more than CPU times).`
      : '.')
  );
}

/** The section for docs/benchmarks.md and the terminal; empty without netns records. */
export function netnsSection(records: readonly BenchRecord[]): string {
  const rows = netnsRecords(records);
  if (rows.length === 0) return '';
  return `## Every network namespace (\`--collector.netns\`)

What one round of the netns collector costs: each namespace's \`/proc/<pid>/net/tcp\` and
\`tcp6\` read with the engine's reader and accumulator, for 1, 10 and 100 namespaces holding
the same sockets in all (ESTABLISHED pairs on each namespace's lo, a quarter over IPv6),
against \`cat\` of the same files in the same run. The 1-namespace row is the same sockets
read from one namespace; sizes above 100k are left out (100 namespaces would read the whole
hash 100 times a round). ${machineLine(records)}

${reading(rows, recommendDefaults(records))}

${[...new Set(rows.map((row) => row.size))]
  .sort((a, b) => a - b)
  .map(
    (size) =>
      `### ${formatSize(size)} sockets\n\n${costTable(rows.filter((row) => row.size === size))}`,
  )
  .join('\n\n')}

${scrapeTable(records)}
`;
}
