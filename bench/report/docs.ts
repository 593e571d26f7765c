/**
 * docs/benchmarks.md and docs/benchmarks.png, generated whole from one run's records,
 * which are committed beside them (docs/benchmarks.jsonl): the figures, the chart, how to
 * re-run, and a reading of the numbers written from them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SIZES, formatSize, PARTS, type Part } from '../lib/options.js';
import type {
  BenchRecord,
  CostMeasurement,
  MachineInfo,
  ProfileMeasurement,
  Tool,
} from '../lib/results.js';
import { netnsSection } from '../netns/netns-report.js';
import { chartSvg, renderPng } from './chart.js';
import { checkTargets, costs, renderSections } from './report.js';
import { SECTION_PAGES, SECTIONS, withSections } from './sections.js';

export const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

const RERUN = `## How to re-run

\`\`\`sh
npm run bench                      # as root: 10k, 100k and 1M sockets; rewrites this page,
                                   # benchmarks.jsonl (the run's records) beside it and the
                                   # generated sections of the pages named above
npm run bench -- --sizes 10k,100k --docs   # the same without 1M (the run on this page)
npm run bench -- --report docs/benchmarks.jsonl --docs   # this page again, from those records
npm run bench -- --quick           # 10k only, fewer runs, leaves this page alone
npm run bench -- --json > out.jsonl   # one JSON object per measurement
npm run bench -- --sizes 10k,100k --only synthetic,real,memory   # no page: not every part
npm run bench -- --only cold-start --baseline d1dabbb   # start-up cost, before/after a revision
npm run bench -- --only footprint,netns-idle --baseline REV   # the same for scrapes, memory, namespaces
\`\`\`

A full run prints its total time at the end and records each part's (the run on this page:
see [Machine](#machine)).

The real-table part needs root (network namespaces), iproute2, perl, hyperfine and
prometheus-node-exporter (Debian packages); 1M sockets need about 6 GiB of free memory.
A part whose needs are missing is skipped and named under "Notes from this run".`;

const METHOD = `## How it is measured

- **CPU** is user + system time. Commands (\`cat\`, and \`ss | awk\` as \`sh -c "…"\`, shell
  included as when typed by hand) run under hyperfine, which reads each child's rusage
  to the microsecond. In-process work (the engine, Node's bare read() loop, the naive
  parser) is timed after a warm-up, as a long-running sampler pays per sample: CPU of
  the thread that runs it (\`/proc/thread-self/schedstat\`, nanoseconds), of which the
  system part is \`process.cpuUsage()\`'s. V8's background threads (the optimising
  compiler, concurrent marking) are not counted; each run starts after a full GC and a
  short pause, so that no earlier work's garbage is collected during it. node_exporter's
  CPU is the change in its \`/proc/<pid>/stat\` utime + stime around each scrape (10 ms
  ticks). On real tables each round runs three probe processes inside the namespace,
  in turn: cat with Node's read() loop and the engine, then \`ss | awk\` and the
  node_exporter scrape, then the naive parser. Within a probe the tools take turns, one
  run each: the kernel's time for the same reads drifts by tens of percent over
  seconds here, so cat and the engine are only compared side by side. cat's fork costs
  the engine next to nothing, as each in-process run starts after a full GC, which
  takes the copy-on-write faults; HTTP requests and the naive parser's garbage would
  cost it more, so they run in probes of their own.
- **Ratios to cat** divide by \`cat\` of the same table measured in the same run.
- **Throughput** (GB/s) is table bytes per CPU second, as the mean over runs and in
  the fastest run. Tables, ratios and per-socket figures use means; the parser target
  is judged on the fastest run, because on this shared machine the same code's time
  varies up to twofold from minute to minute and interference only ever adds time.
- **Real tables** live in a network namespace of their own: ESTABLISHED connections
  over IPv4 and IPv6 on lo (both ends in the table; the server side stays unaccepted,
  so only the client side needs a file descriptor) held by small perl processes, and a
  quarter of the table in TIME_WAIT, made in a burst (at most 25 s) just before the
  measurements. TIME_WAIT lasts 60 s, so each round of measurements runs inside that
  minute; the TIME_WAIT drift printed with each table shows it held.
  Clients bind their ports explicitly (1024-54999, so the top of the default
  \`ip_local_port_range\` stays free for the scrapes); the range keeps its default, so
  the engine counts ephemeral ports as on a host with default settings.
- **Synthetic tables** are written in the kernel's exact line formats (tcp lines padded
  to 149 bytes, tcp6 not; TIME_WAIT and request sockets in their own shapes), two
  thirds IPv4, one third IPv6 (a quarter of it IPv4-mapped), 45 % ESTABLISHED and 40 %
  TIME_WAIT, on tmpfs. \`cat\` there only copies page-cache bytes, so those ratios show
  the parser's own cost, not the share of a real sample.
- The **naive parser** reads each file with \`readFileSync\`, \`split('\\n')\`, then
  \`split(/\\s+/)\` per line, and counts family × state only (the engine also counts
  ports and per-destination ephemeral use). Its counts are checked against the table.
- **Memory** is measured in a fresh process: one sampler reads an empty table, then each
  size 10 times; RSS is the highest seen while sampling, heap and array buffers are
  after a full GC, each against the empty-table figure.
- **Daemon**: \`src\` compiled with tsc and run with node as \`npm start\` would. Memory after
  100 samples of each synthetic table (\`--sample.interval 100ms\`); scrape latency with
  autocannon (50 connections) while it samples the largest real table every 5 s, both
  inside the namespace and sharing the machine's two cores.
- The machine is shared and small: wall times are noisier than CPU times, and the load
  average is printed with each run.`;

function find(
  rows: readonly CostMeasurement[],
  tool: Tool,
  size: number,
): CostMeasurement | undefined {
  return rows.find((row) => row.tool === tool && row.size === size);
}

const times = (value: number) => `${value.toFixed(2)}×`;
const micros = (value: number) => `${value.toFixed(2)} µs`;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function realReading(records: readonly BenchRecord[], lines: string[]): void {
  const real = costs(records, 'real');
  for (const size of [...new Set(real.map((row) => row.size))].sort((a, b) => a - b)) {
    const engine = find(real, 'engine', size);
    const cat = find(real, 'cat', size);
    if (engine === undefined || cat === undefined) continue;
    const extraUser = ((engine.userSeconds - cat.userSeconds) * 1e6) / engine.sockets;
    lines.push(
      `Real ${formatSize(size)} sockets: \`cat\` costs ${micros(cat.cpuMicrosPerSocket)} of CPU per socket, ` +
        `${((cat.systemSeconds / cat.cpuSeconds) * 100).toFixed(0)} % of it system time; the engine's whole sample ` +
        `costs ${times(engine.cpuRatioToCat)} cat: system time ${times(engine.systemSeconds / cat.systemSeconds)} ` +
        `cat's (the same read() calls of the same text), plus ${micros(extraUser)} per socket of user time ` +
        'to decode every line and aggregate ports and destinations.',
    );
  }
  const largest = Math.max(...real.map((row) => row.size));
  const others = (['naive', 'ss-awk', 'node-exporter'] as const)
    .map((tool) => find(real, tool, largest))
    .filter((row): row is CostMeasurement => row !== undefined)
    .map(
      (row) => `${OTHER_NAMES[row.tool as keyof typeof OTHER_NAMES]} ${times(row.cpuRatioToCat)}`,
    );
  if (others.length > 0) {
    lines.push(
      `The alternatives on the same ${formatSize(largest)} table, as multiples of cat's CPU: ${others.join(', ')}. ` +
        'None of them is cheaper than the kernel producing the text; the engine comes closest while computing the most ' +
        '(per-port and per-destination figures; node_exporter and `ss | awk` only count states).',
    );
  }
}

const OTHER_NAMES = {
  naive: 'the naive split parser',
  'ss-awk': '`ss -tan | awk | sort | uniq -c`',
  'node-exporter': "node_exporter's tcpstat scrape (netlink)",
} as const;

/** `8 % at 100k, 7 % at 1M`: the engine's user time beyond cat's, over cat's CPU. */
function userOverheads(real: readonly CostMeasurement[]): string {
  return [...new Set(real.map((row) => row.size))]
    .sort((a, b) => a - b)
    .filter((size) => size >= 100_000)
    .flatMap((size) => {
      const engine = find(real, 'engine', size);
      const cat = find(real, 'cat', size);
      if (engine === undefined || cat === undefined) return [];
      const share = (engine.userSeconds - cat.userSeconds) / cat.cpuSeconds;
      return [`${(share * 100).toFixed(0)} % at ${formatSize(size)}`];
    })
    .join(', ');
}

/** ` (the read() loop alone: X of the engine's Y ms of user time at N)`, when measured. */
function readLoopShare(real: readonly CostMeasurement[]): string {
  const largest = Math.max(...real.map((row) => row.size));
  const loop = find(real, 'read-only', largest);
  const engine = find(real, 'engine', largest);
  if (loop === undefined || engine === undefined) return '';
  return ` (at ${formatSize(largest)}: ${(loop.userSeconds * 1000).toFixed(0)} of the engine's ${(engine.userSeconds * 1000).toFixed(0)} ms of user time per sample)`;
}

/** `; the line decoder takes X % of a sample of cached…`, from the profile. */
function decoderShare(records: readonly BenchRecord[]): string {
  const profile = records.filter(
    (record): record is ProfileMeasurement =>
      record.kind === 'profile' && record.table === 'synthetic',
  );
  const decoding = profile
    .filter((entry) => entry.location === 'wasm')
    .reduce((sum, entry) => sum + entry.selfShare, 0);
  if (profile.length === 0) return '';
  return `; in the profile of a synthetic sample below, the line decoder (WebAssembly, \`wasm\`) takes ${(decoding * 100).toFixed(0)} % of the CPU`;
}

function targetReading(records: readonly BenchRecord[], lines: string[]): void {
  const [sample, parser, memory] = checkTargets(records);
  const real = costs(records, 'real');
  if (sample?.holds !== undefined) {
    lines.push(
      `${sample.holds ? 'Target holds' : '**Target missed**'}: ${sample.target} — ${sample.measured}. ` +
        'The sample makes the same read() calls of about 4 KiB as cat, so it pays the same system time for ' +
        "the kernel's text, most of the cost; what it adds is user time, part of it for Node's read() calls " +
        `alone${readLoopShare(real)} and the rest for decoding. cat also pays for starting a process, and the ` +
        'system time of the same reads varies by several percent between runs on this shared two-core machine, ' +
        'so a ratio a little under 1 can happen, and one near 1.10 is within noise of the target. ' +
        `The part that is the engine's own, its user time beyond cat's, is ${userOverheads(real)} of cat's CPU.`,
    );
  }
  const synthetic = costs(records, 'synthetic');
  const largestSynthetic = Math.max(...synthetic.map((row) => row.size));
  const parserRow = find(synthetic, 'decoder', largestSynthetic);
  const naive = find(synthetic, 'naive-parse', largestSynthetic);
  const kernel = find(real, 'cat', Math.max(...real.map((row) => row.size)));
  if (parser?.holds !== undefined && parserRow !== undefined) {
    lines.push(
      `${parser.holds ? 'Target holds' : '**Target missed**'}: ${parser.target} — ${parser.measured}` +
        (naive === undefined
          ? '. '
          : `, ${(naive.cpuSeconds / parserRow.cpuSeconds).toFixed(1)}× the naive split parser (which reads the state only). `) +
        'It validates and decodes every hex digit of both addresses and ports (26 digits on a tcp line, 74 ' +
        'on a tcp6 line), not only the state, because ephemeral-port use is counted per destination' +
        `${decoderShare(records)}.` +
        (kernel === undefined
          ? ''
          : ` At ${micros(parserRow.cpuMicrosPerSocket)} per socket it is ${((parserRow.cpuMicrosPerSocket / kernel.cpuMicrosPerSocket) * 100).toFixed(0)} % of what the kernel spends producing each line, which is why the whole-sample ratio stays near 1.`),
    );
  }
  if (memory?.holds !== undefined) {
    lines.push(
      `${memory.holds ? 'Target holds' : '**Target missed**'}: ${memory.target} — ${memory.measured}. ` +
        'The engine keeps one reused read buffer and columnar typed arrays (9 bytes per socket) that grow ' +
        'to the largest table seen, and no object per socket.',
    );
  }
}

function daemonReading(records: readonly BenchRecord[], lines: string[]): void {
  for (const record of records) {
    if (record.kind !== 'daemon') continue;
    if (record.latencyP50Ms !== undefined && record.latencyP99Ms !== undefined) {
      lines.push(
        `Daemon on the real ${formatSize(record.size)} table, sampling every 5 s in its worker thread: ` +
          `/metrics answered ${record.requests} requests from ${record.connections} connections in ` +
          `${record.durationSeconds} s with p50 ${record.latencyP50Ms} ms and p99 ${record.latencyP99Ms} ms ` +
          `(${record.errors} errors), with autocannon, the daemon and its sampling sharing two cores; ` +
          `RSS ${mib(record.rssBytes)}.`,
      );
    }
  }
  const synthetic = records.filter(
    (record): record is Extract<BenchRecord, { kind: 'daemon' }> =>
      record.kind === 'daemon' && record.source === 'synthetic',
  );
  if (synthetic.length > 0) {
    lines.push(
      `Daemon after ${synthetic[0]?.samples ?? 100}+ samples: ` +
        synthetic
          .map(
            (record) =>
              `${formatSize(record.size)} sockets RSS ${mib(record.rssBytes)}, heap ${mib(record.heapUsedBytes)}`,
          )
          .join('; ') +
        '.',
    );
  }
}

/** Sentences about this run's numbers, written from them. */
export function reading(records: readonly BenchRecord[]): string {
  const lines: string[] = [];
  realReading(records, lines);
  targetReading(records, lines);
  daemonReading(records, lines);
  return lines.map((line) => `- ${line}`).join('\n');
}

/** The records of the run the page shows, committed beside it. */
export const RESULTS_PATH = `${DOCS}benchmarks.jsonl`;
export const PAGE_PATH = `${DOCS}benchmarks.md`;

/**
 * The bench's parts the run did not have: a run never leaves one out (`--docs` refuses
 * `--only`), so these were added after it; the pages say they are not measured yet.
 */
export function partsNotRun(records: readonly BenchRecord[]): Part[] {
  const machine = records.find((record): record is MachineInfo => record.kind === 'machine');
  return PARTS.filter((part) => machine?.run.parts.includes(part) !== true);
}

/** Why these records cannot make the pages: they show one whole, finished run. */
export function wholeRunProblems(records: readonly BenchRecord[]): string[] {
  const machines = records.filter((record): record is MachineInfo => record.kind === 'machine');
  if (machines.length !== 1) return [`${machines.length} runs in the records, not one`];
  const { run, commit } = machines[0] as MachineInfo;
  const problems: string[] = [];
  if (run.quick) problems.push('a --quick run');
  if (commit.includes('modified')) problems.push(`src/ differed from commit ${commit}`);
  if (!records.some((record) => record.kind === 'end')) problems.push('the run did not finish');
  return problems;
}

/** The command that made the run, as typed. */
function runCommand(machine: MachineInfo): string {
  const defaults = machine.run.sizes.join() === DEFAULT_SIZES.join();
  return `npm run bench${defaults ? '' : ` -- --sizes ${machine.run.sizes.map(formatSize).join(',')}`}`;
}

/** `top-k, soak in [reliability.md](reliability.md); …`: the sections this run writes elsewhere. */
function otherPages(): string {
  return SECTION_PAGES.map((page) => {
    const names = SECTIONS.filter((section) => section.page === page).map(
      (section) => section.name,
    );
    return `${names.join(', ')} in [${page}](${page})`;
  }).join('; ');
}

/** A sentence naming the parts added after the run, when there are any. */
function notRunYet(records: readonly BenchRecord[]): string {
  const missing = partsNotRun(records);
  return missing.length === 0
    ? ''
    : ` This run predates the parts ${missing.map((part) => `\`${part}\``).join(', ')}: ` +
        'their figures are not measured yet.';
}

/** docs/benchmarks.md, whole, from one run's records (see wholeRunProblems). */
export function benchmarksPage(records: readonly BenchRecord[]): string {
  const machine = records.find((record): record is MachineInfo => record.kind === 'machine');
  if (machine === undefined) throw new Error('no machine record');
  const sizes = machine.run.sizes.map(formatSize).join(', ');
  return `# Benchmarks

What a sample of the socket tables costs, next to \`cat\` of the same files (the kernel's
floor for this interface), \`ss | awk\`, node_exporter's tcpstat collector and a naive
JavaScript parser, at ${sizes} sockets; the engine's memory; the daemon's scrape latency;
its cold start; what reading every network namespace costs.

Every figure on this page comes from one run, \`${runCommand(machine)}\` at commit
\`${machine.commit}\`, started ${machine.startedAt} on the machine described under
[Machine](#machine). Its raw records are committed beside this page as
[benchmarks.jsonl](benchmarks.jsonl); \`npm run bench -- --report docs/benchmarks.jsonl --docs\`
writes the page and its chart again from them, and \`test/bench/docs.test.ts\` fails when the
page and the records disagree. Do not edit by hand. The same run writes sections of other
pages, between markers: ${otherPages()}.${notRunYet(records)}

## Reading

${reading(records)}

![CPU per socket against table size](benchmarks.png)

${renderSections(records)}
${netnsSection(records)}
${RERUN}

${METHOD}
`;
}

/**
 * Writes the run's records, the page, its chart and the generated sections of other pages;
 * refuses records that are not one whole run.
 */
export function writeDocs(records: readonly BenchRecord[], log: (message: string) => void): void {
  const problems = wholeRunProblems(records);
  if (problems.length > 0) {
    throw new Error(`docs/benchmarks.md comes from one whole run: ${problems.join('; ')}`);
  }
  // Every page is rendered before any is written: a missing marker leaves them all alone.
  const pages = SECTION_PAGES.map((page) => {
    const path = `${DOCS}${page}`;
    return [path, withSections(page, readFileSync(path, 'utf8'), records)] as const;
  });
  mkdirSync(DOCS, { recursive: true });
  writeFileSync(RESULTS_PATH, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
  writeFileSync(PAGE_PATH, benchmarksPage(records));
  const svg = chartSvg(costs(records, 'real'), costs(records, 'synthetic'));
  writeFileSync(`${DOCS}benchmarks.png`, renderPng(svg));
  for (const [path, text] of pages) writeFileSync(path, text);
  log(`wrote ${RESULTS_PATH}, ${PAGE_PATH}, benchmarks.png and ${SECTION_PAGES.join(', ')}`);
}

/** The records of a JSON lines file (a run's bench/out/*.jsonl, or RESULTS_PATH). */
export function readRecords(path: string): BenchRecord[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as BenchRecord);
}
