/**
 * What the connect-errors collector's tracefs events cost the host (docs/benchmarks.md,
 * "connect-errors"): enabling any syscall exit event sends every syscall of every process
 * through the tracepoint path, so a syscall-heavy loop (getppid) and a connect()/close() loop
 * run in a lab namespace with the events off and on, alternated round by round in one run so
 * that both sides share the machine's load. Medians of the rounds.
 *
 *   npx tsx bench/tracer/tracer-bench.ts [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { ConnectErrorStream } from '../../src/sources/connect-errors.js';
import { DEFAULT_TRACEFS } from '../../src/sources/tracefs-instance.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';

const PROGRAM = new URL('../../testkit/programs/syscall-loop.mjs', import.meta.url).pathname;
const LOOP = { getppid: 2_000_000, connects: 3_000 };

interface Timing {
  readonly getppidNs: number;
  readonly connectUs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function runLoop(ns: string): Timing {
  const out = execFileSync(
    'ip',
    ['netns', 'exec', ns, process.execPath, PROGRAM, JSON.stringify(LOOP)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return JSON.parse(out) as Timing;
}

const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag < 0 ? 6 : Number(process.argv[roundsFlag + 1]);
const lab = new NetnsLab('trbench');
try {
  const ns = lab.addNamespace('loop');
  const off: Timing[] = [];
  const on: Timing[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which side goes first, so a drift in load favours neither.
    for (const enabled of round % 2 === 0 ? [false, true] : [true, false]) {
      const stream = enabled
        ? ConnectErrorStream.start({
            procfsRoot: '/proc',
            tracefsPath: DEFAULT_TRACEFS,
            podLogsDir: '/nonexistent',
            maxNamespaces: 10,
          })
        : undefined;
      try {
        (enabled ? on : off).push(runLoop(ns));
        stream?.poll();
      } finally {
        stream?.close();
      }
    }
  }
  const row = (name: string, pick: (timing: Timing) => number, unit: string) => {
    const before = median(off.map(pick));
    const after = median(on.map(pick));
    const change = ((after / before - 1) * 100).toFixed(1);
    const spread = (timings: Timing[]) => {
      const values = timings.map(pick);
      return `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;
    };
    return `| ${name} | ${before.toFixed(1)} ${unit} (${spread(off)}) | ${after.toFixed(1)} ${unit} (${spread(on)}) | ${change} % |`;
  };
  console.log(`${rounds} rounds, medians; events off / on alternated in each round\n`);
  console.log('| loop | events off (min-max) | events on (min-max) | change of the medians |');
  console.log('|---|---|---|---|');
  console.log(row(`getppid() x ${LOOP.getppid}`, (t) => t.getppidNs, 'ns'));
  console.log(row(`connect()/close() x ${LOOP.connects}`, (t) => t.connectUs, 'µs'));
} finally {
  await lab.close();
}
