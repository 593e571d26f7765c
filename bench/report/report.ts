/** Markdown tables from the bench's records: the terminal summary and docs/benchmarks.md. */
import { formatSize } from '../lib/options.js';
import {
  type BenchRecord,
  type ColdStartMeasurement,
  type CostMeasurement,
  type DaemonMeasurement,
  type MemoryMeasurement,
  type Phase,
  type ProfileMeasurement,
  type TableMeasurement,
  TOOL_LABELS,
  TOOLS,
} from '../lib/results.js';

export const TARGETS = {
  sampleToCat: 1.1,
  parserGigabytesPerSecond: 2,
  growthBytes: 20 * 1024 * 1024,
} as const;

const MIB = 1024 * 1024;

function significant(value: number, digits = 3): string {
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toFixed(decimals);
}

const ms = (seconds: number) => significant(seconds * 1000);
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)}`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function ofKind<K extends BenchRecord['kind']>(
  records: readonly BenchRecord[],
  kind: K,
): Extract<BenchRecord, { kind: K }>[] {
  return records.filter(
    (record): record is Extract<BenchRecord, { kind: K }> => record.kind === kind,
  );
}

export function costs(records: readonly BenchRecord[], phase: Phase): CostMeasurement[] {
  return ofKind(records, 'cost').filter((record) => record.phase === phase);
}

function costTable(rows: readonly CostMeasurement[], withThroughput: boolean): string {
  const ordered = [...rows].sort((a, b) => TOOLS.indexOf(a.tool) - TOOLS.indexOf(b.tool));
  return table(
    [
      'tool',
      'CPU ms/sample',
      'user ms',
      'sys ms',
      'wall ms (median)',
      'CPU µs/socket',
      'CPU × cat',
      'wall × cat',
      ...(withThroughput ? ['GB/s (CPU, mean / fastest run)'] : []),
      'runs',
    ],
    ordered.map((row) => [
      TOOL_LABELS[row.tool],
      ms(row.cpuSeconds),
      ms(row.userSeconds),
      ms(row.systemSeconds),
      ms(row.wallSeconds),
      significant(row.cpuMicrosPerSocket),
      `${row.cpuRatioToCat.toFixed(2)}×`,
      `${row.wallRatioToCat.toFixed(2)}×`,
      ...(withThroughput
        ? [
            row.gigabytesPerSecond === undefined
              ? ''
              : `${row.gigabytesPerSecond.toFixed(2)} / ${row.fastestGigabytesPerSecond?.toFixed(2) ?? '–'}`,
          ]
        : []),
      String(row.runs),
    ]),
  );
}

function sizesOf(rows: readonly { readonly size: number }[]): number[] {
  return [...new Set(rows.map((row) => row.size))].sort((a, b) => a - b);
}

function composition(tables: readonly TableMeasurement[], size: number): string {
  const rounds = tables.filter((entry) => entry.size === size);
  const first = rounds[0];
  if (first === undefined) return '';
  const drift = Math.max(
    ...rounds.map((entry) => Math.abs(entry.timeWaitBefore - entry.timeWaitAfter)),
  );
  return (
    `Table: ${first.ipv4Sockets + first.ipv6Sockets} sockets (${first.ipv4Sockets} in tcp, ` +
    `${first.ipv6Sockets} in tcp6; ${first.established} ESTABLISHED, ${first.timeWait} TIME_WAIT), ` +
    `built in ${first.buildSeconds.toFixed(0)} s, measured in ${rounds.length} round(s); ` +
    `TIME_WAIT changed by at most ${drift} during a round` +
    (first.otherSockets === undefined
      ? '.'
      : `; about ${first.otherSockets} TCP sockets of other namespaces shared the kernel's hash.`)
  );
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly holds: boolean | undefined;
}

/** The engine issue's targets, judged on this run's figures (undefined: not measured). */
export function checkTargets(records: readonly BenchRecord[]): TargetCheck[] {
  const realEngine = costs(records, 'real').filter(
    (row) => row.tool === 'engine' && row.size >= 100_000,
  );
  const parser = costs(records, 'synthetic')
    .filter((row) => row.tool === 'decoder')
    .sort((a, b) => b.size - a.size)[0];
  const memory = ofKind(records, 'memory').sort((a, b) => b.size - a.size)[0];
  const worstRatio = Math.max(...realEngine.map((row) => row.cpuRatioToCat));
  const tables = ofKind(records, 'table');
  const spread = (size: number) => {
    const ratios = tables
      .filter((table) => table.size === size && table.engineToCat !== undefined)
      .map((table) => table.engineToCat as number);
    return ratios.length < 2
      ? ''
      : ` (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
  };
  const growth =
    memory === undefined
      ? undefined
      : Math.max(
          memory.rssGrowthBytes,
          memory.heapUsedGrowthBytes + memory.arrayBuffersGrowthBytes,
        );
  return [
    {
      target: `whole sample ≤ ${TARGETS.sampleToCat}× cat (CPU) on real tables of ≥ 100k sockets`,
      measured:
        realEngine.length === 0
          ? 'not measured'
          : realEngine
              .map(
                (row) =>
                  `${formatSize(row.size)}: ${row.cpuRatioToCat.toFixed(2)}×${spread(row.size)}`,
              )
              .join(', '),
      holds: realEngine.length === 0 ? undefined : worstRatio <= TARGETS.sampleToCat,
    },
    {
      target: `parser ≥ ${TARGETS.parserGigabytesPerSecond} GB/s on cached text (fastest run)`,
      measured:
        parser?.fastestGigabytesPerSecond === undefined || parser.gigabytesPerSecond === undefined
          ? 'not measured'
          : `${parser.fastestGigabytesPerSecond.toFixed(2)} GB/s at ${formatSize(parser.size)} ` +
            `(mean of ${parser.runs} runs ${parser.gigabytesPerSecond.toFixed(2)} GB/s)`,
      holds:
        parser?.fastestGigabytesPerSecond === undefined
          ? undefined
          : parser.fastestGigabytesPerSecond >= TARGETS.parserGigabytesPerSecond,
    },
    {
      target: 'RSS and heap grow ≤ 20 MiB from an empty table to 1M sockets',
      measured:
        memory === undefined || growth === undefined
          ? 'not measured'
          : `RSS +${mib(memory.rssGrowthBytes)} MiB, heap +${mib(memory.heapUsedGrowthBytes)} MiB, ` +
            `array buffers +${mib(memory.arrayBuffersGrowthBytes)} MiB at ${formatSize(memory.size)}`,
      holds:
        memory === undefined || growth === undefined || memory.size < 1_000_000
          ? undefined
          : growth <= TARGETS.growthBytes,
    },
  ];
}

function verdict(holds: boolean | undefined): string {
  return holds === undefined ? 'not judged' : holds ? 'holds' : '**missed**';
}

function machineSection(records: readonly BenchRecord[]): string {
  const machine = ofKind(records, 'machine')[0];
  const end = ofKind(records, 'end')[0];
  if (machine === undefined) return '';
  const tools = Object.entries(machine.tools)
    .map(([name, version]) => `${name}: ${version}`)
    .join('; ');
  return [
    `- ${machine.cpus} CPUs (${machine.cpuModel}), ${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GiB RAM`,
    `- Linux ${machine.kernel}, Node ${machine.node}, commit ${machine.commit}, ${machine.startedAt}`,
    `- load average (1, 5, 15 min) at start ${machine.loadAverageAtStart.join(' ')}` +
      (end
        ? `, at end ${end.loadAverageAtEnd.join(' ')}; the run took ${Math.round(end.durationSeconds / 60)} min`
        : ''),
    ...partTimes(records),
    `- ${tools}`,
  ].join('\n');
}

/** `- by part: synthetic 4.2 min, real 12.0 min, …`, when the run timed its parts. */
function partTimes(records: readonly BenchRecord[]): string[] {
  const seconds = new Map<string, number>();
  for (const record of records) {
    if (record.kind === 'part-time') {
      seconds.set(record.part, (seconds.get(record.part) ?? 0) + record.seconds);
    }
  }
  if (seconds.size === 0) return [];
  const times = [...seconds].map(([part, time]) => `${part} ${(time / 60).toFixed(1)} min`);
  return [`- by part: ${times.join(', ')}`];
}

function memorySection(rows: readonly MemoryMeasurement[]): string {
  return table(
    [
      'table',
      'samples',
      'RSS MiB',
      'RSS growth',
      'heap used MiB',
      'heap growth',
      'array buffers growth',
    ],
    rows.map((row) => [
      formatSize(row.size),
      String(row.samples),
      mib(row.rssBytes),
      `+${mib(row.rssGrowthBytes)} MiB`,
      mib(row.heapUsedBytes),
      `+${mib(row.heapUsedGrowthBytes)} MiB`,
      `+${mib(row.arrayBuffersGrowthBytes)} MiB`,
    ]),
  );
}

function profileSection(rows: readonly ProfileMeasurement[]): string {
  return table(
    ['function', 'where', 'self CPU'],
    rows.map((row) => [
      `\`${row.function}\``,
      row.location,
      `${(row.selfShare * 100).toFixed(1)}%`,
    ]),
  );
}

function daemonSection(rows: readonly DaemonMeasurement[]): string {
  return table(
    [
      'table',
      'source',
      'samples',
      'RSS MiB',
      'heap used MiB',
      'scrape p50 ms',
      'scrape p99 ms',
      'requests',
      'errors',
    ],
    rows.map((row) => [
      formatSize(row.size),
      row.source,
      String(row.samples),
      mib(row.rssBytes),
      mib(row.heapUsedBytes),
      row.latencyP50Ms === undefined ? '' : significant(row.latencyP50Ms),
      row.latencyP99Ms === undefined ? '' : significant(row.latencyP99Ms),
      row.requests === undefined ? '' : String(row.requests),
      row.errors === undefined ? '' : String(row.errors),
    ]),
  );
}

function coldStartSection(rows: readonly ColdStartMeasurement[]): string {
  return table(
    [
      'build',
      'command',
      'runs',
      'wall ms (median)',
      'CPU ms (mean)',
      'wall / node -e 0',
      'CPU / node -e 0',
    ],
    rows.map((row) => [
      row.build,
      `\`${row.command}\``,
      String(row.runs),
      significant(row.wallSeconds * 1000),
      significant(row.cpuSeconds * 1000),
      significant(row.wallRatioToNode),
      significant(row.cpuRatioToNode),
    ]),
  );
}

/** Every section that has data, as markdown. */
export function renderSections(records: readonly BenchRecord[]): string {
  const parts: string[] = [];
  parts.push(`## Machine\n\n${machineSection(records)}`);
  parts.push(
    `## Targets\n\n${table(
      ['target', 'measured', 'verdict'],
      checkTargets(records).map((check) => [check.target, check.measured, verdict(check.holds)]),
    )}`,
  );
  const real = costs(records, 'real');
  const tables = ofKind(records, 'table');
  if (real.length > 0) {
    parts.push(
      '## Real kernel tables (network namespace)\n\n' +
        sizesOf(real)
          .map(
            (size) =>
              `### ${formatSize(size)} sockets\n\n${composition(tables, size)}\n\n${costTable(
                real.filter((row) => row.size === size),
                false,
              )}`,
          )
          .join('\n\n'),
    );
  }
  const synthetic = costs(records, 'synthetic');
  if (synthetic.length > 0) {
    parts.push(
      '## Synthetic tables (tmpfs)\n\n' +
        sizesOf(synthetic)
          .map((size) => {
            const rows = synthetic.filter((row) => row.size === size);
            const bytes = rows.find((row) => row.bytes > 0)?.bytes ?? 0;
            return `### ${formatSize(size)} sockets (${mib(bytes)} MiB of text)\n\n${costTable(rows, true)}`;
          })
          .join('\n\n'),
    );
  }
  const memory = ofKind(records, 'memory');
  if (memory.length > 0) parts.push(`## Engine memory (fresh process)\n\n${memorySection(memory)}`);
  for (const phase of ['real', 'synthetic'] as const) {
    const profile = ofKind(records, 'profile').filter((row) => row.table === phase);
    const first = profile[0];
    if (first === undefined) continue;
    parts.push(
      `## Where the engine's CPU goes: ${formatSize(first.size)} ${phase === 'real' ? 'real' : 'synthetic'} sockets\n\n` +
        `Self time by function over whole samples (V8 sampling profiler, as \`node --cpu-prof\`); \`read\` is the read() system call, i.e. the kernel producing the text.\n\n${profileSection(profile)}`,
    );
  }
  const daemon = ofKind(records, 'daemon');
  if (daemon.length > 0) parts.push(`## Daemon\n\n${daemonSection(daemon)}`);
  const coldStart = ofKind(records, 'cold-start');
  if (coldStart.length > 0) parts.push(`## Cold start\n\n${coldStartSection(coldStart)}`);
  const notes = ofKind(records, 'note');
  if (notes.length > 0) {
    parts.push(
      `## Notes from this run\n\n${notes.map((note) => `- ${note.phase}: ${note.text}`).join('\n')}`,
    );
  }
  return `${parts.join('\n\n')}\n`;
}
