/**
 * The `conntrack` part of `npm run bench` (`--only conntrack`): what a sample of the snat
 * collector costs against `cat` of the same net/nf_conntrack, on a synthetic file (tmpfs:
 * cat only copies page-cache bytes, so the ratio is the parser's own cost) and on a real
 * table filled in a namespace (the kernel printing the text is the floor). Each probe is a
 * child process; with `--baseline REV` that revision's probe runs too, alternating with this
 * tree's on the same tables. docs/conntrack.md shows the records (bench/report/sections.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkout } from '../lib/checkout.js';
import type { BenchContext } from '../lib/context.js';
import { addSamples, meanCpuSeconds, medianWallSeconds } from '../lib/measure.js';
import type { ConntrackMeasurement } from '../lib/results.js';
import type { ConntrackProbeRequest, ConntrackProbeResult } from './conntrack-probe.js';
import { fillRealConntrack, writeSyntheticConntrack } from './conntrack-table.js';

const PROBE = 'bench/conntrack/conntrack-probe.ts';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** What the cost target is set at: nf_conntrack_max's default on many nodes. */
export const CONNTRACK_BENCH_ENTRIES = 262_144;
/** The real table stays below nf_conntrack_max (262 144 by default), where flows are dropped. */
const REAL_ENTRIES = 250_000;

interface Build {
  readonly name: string;
  readonly root: string;
}

function probe(build: Build, request: ConntrackProbeRequest, namespace?: string) {
  const command = [process.execPath, '--import', 'tsx', join(build.root, PROBE)];
  const argv = namespace === undefined ? command : ['ip', 'netns', 'exec', namespace, ...command];
  const output = execFileSync(argv[0] as string, [...argv.slice(1), JSON.stringify(request)], {
    cwd: build.root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  return JSON.parse(output) as ConntrackProbeResult;
}

function record(
  table: ConntrackMeasurement['table'],
  build: string,
  entries: number,
  result: ConntrackProbeResult,
  fillSeconds?: number,
): ConntrackMeasurement {
  const engineCpuSeconds = meanCpuSeconds(result.engine);
  const catCpuSeconds = meanCpuSeconds(result.cat);
  return {
    kind: 'conntrack',
    table,
    build,
    entries,
    bytes: result.bytes,
    natted: result.natted,
    runs: result.engine.runs,
    engineCpuSeconds,
    engineSystemSeconds: result.engine.systemSeconds / result.engine.runs,
    engineWallSeconds: medianWallSeconds(result.engine),
    catCpuSeconds,
    cpuRatioToCat: engineCpuSeconds / catCpuSeconds,
    ...(fillSeconds !== undefined && { fillSeconds }),
  };
}

/** Each build's probe on one table, the order of the builds alternating per round. */
function measureBuilds(
  context: BenchContext,
  builds: readonly Build[],
  measure: (build: Build) => ConntrackProbeResult,
  emit: (build: Build, result: ConntrackProbeResult) => void,
): void {
  const rounds = builds.length > 1 ? 2 : 1;
  const results = new Map<Build, ConntrackProbeResult[]>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    for (const build of order) {
      context.log(`conntrack: probing ${build.name}`);
      results.set(build, [...(results.get(build) ?? []), measure(build)]);
    }
  }
  for (const build of builds) {
    const [first, ...rest] = results.get(build) ?? [];
    if (first === undefined) continue;
    let { cat, engine } = first;
    for (const next of rest) {
      cat = addSamples(cat, next.cat);
      engine = addSamples(engine, next.engine);
    }
    emit(build, { ...first, cat, engine });
  }
}

export async function runConntrackPart(context: BenchContext): Promise<void> {
  const { baseline, effort } = context.options;
  const builds: Build[] = [{ name: 'this tree', root: REPO }];
  if (baseline !== undefined) {
    const root = checkout(context, baseline);
    // A baseline older than the snat collector has nothing to compare; the rest still runs.
    if (existsSync(join(root, 'src/sources/conntrack-table.ts'))) {
      builds.push({ name: `baseline ${baseline}`, root });
    } else {
      context.note('conntrack', `baseline ${baseline} has no snat collector: this tree only`);
    }
  }
  const runsPerRound = Math.max(1, Math.round(3 * effort));
  const synthetic = context.scratchDir('conntrack');
  context.log(`conntrack: writing a synthetic table of ${CONNTRACK_BENCH_ENTRIES} entries`);
  writeSyntheticConntrack(synthetic, CONNTRACK_BENCH_ENTRIES);
  measureBuilds(
    context,
    builds,
    (build) => probe(build, { root: synthetic, rounds: 2, runsPerRound }),
    (build, result) =>
      context.emit(record('synthetic', build.name, CONNTRACK_BENCH_ENTRIES, result)),
  );
  context.log(`conntrack: filling a real table of ${REAL_ENTRIES} NATed flows`);
  const filling = performance.now();
  const lab = await fillRealConntrack(REAL_ENTRIES);
  const fillSeconds = (performance.now() - filling) / 1000;
  try {
    measureBuilds(
      context,
      builds,
      (build) => probe(build, { root: '/proc', rounds: 2, runsPerRound }, lab.node),
      (build, result) =>
        context.emit(record('real', build.name, REAL_ENTRIES, result, fillSeconds)),
    );
  } finally {
    await lab.close();
  }
}
