/**
 * `npm run bench`: what a sample costs against cat, ss, node_exporter and a naive parser,
 * on synthetic tables and on real kernel tables in a network namespace; the engine's
 * memory growth; the daemon's scrape latency and memory; top-K; what idle namespaces cost.
 * Writes docs/benchmarks.md and the generated sections of other pages (bench/report/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { runConntrackPart } from './conntrack/conntrack-bench.js';
import { runBasicAuthPart } from './daemon/basic-auth-bench.js';
import { runColdStartPart } from './daemon/cold-start-bench.js';
import {
  buildDaemon,
  type DaemonBuild,
  measureScrapeLatency,
  runDaemonMemoryPart,
} from './daemon/daemon-bench.js';
import { runFootprintPart } from './daemon/footprint-bench.js';
import { runSampleIntakePart } from './daemon/sample-intake-bench.js';
import { runSoakPart } from './daemon/soak.js';
import { runMemoryPart } from './engine/memory-bench.js';
import { runProfilePart } from './engine/profile-bench.js';
import { runRealPart } from './engine/real-bench.js';
import { runSyntheticPart } from './engine/synthetic-bench.js';
import { runTopKPart } from './engine/top-k-bench.js';
import { BenchContext } from './lib/context.js';
import { describeMachine } from './lib/machine.js';
import { type BenchOptions, parseOptions, USAGE } from './lib/options.js';
import type { BenchRecord } from './lib/results.js';
import { runNetnsPart } from './netns/netns-bench.js';
import { runNetnsIdlePart } from './netns/netns-idle-bench.js';
import { netnsSection } from './netns/netns-report.js';
import { readRecords, writeDocs } from './report/docs.js';
import { renderSections } from './report/report.js';
import { renderGeneratedSections } from './report/sections.js';
import { runNsenterPart } from './sysctl/nsenter-bench.js';
import { runSockstatFastPart } from './tracer/sockstat-fast-bench.js';
import { runTracerPart } from './tracer/tracer-bench.js';

/**
 * Runs one part and records how long it took (what a full run's length is made of); a
 * failure becomes a note in the report and the run goes on.
 */
async function attempt(context: BenchContext, part: string, run: () => unknown): Promise<void> {
  const started = performance.now();
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    context.note(part, `failed: ${message.split('\n').slice(0, 3).join(' ')}`);
  }
  context.emit({
    kind: 'part-time',
    part,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });
}

async function runParts(context: BenchContext): Promise<void> {
  const { parts } = context.options;
  if (parts.has('synthetic')) await attempt(context, 'synthetic', () => runSyntheticPart(context));
  if (parts.has('memory')) await attempt(context, 'memory', () => runMemoryPart(context));
  if (parts.has('profile')) await attempt(context, 'profile', () => runProfilePart(context));
  let daemon: DaemonBuild | undefined;
  if (parts.has('daemon')) {
    await attempt(context, 'daemon', () => {
      daemon = buildDaemon(context);
    });
  }
  const built = daemon;
  if (parts.has('real')) {
    await attempt(context, 'real', () =>
      runRealPart(
        context,
        built && ((table, size) => measureScrapeLatency(context, built, table, size)),
      ),
    );
  } else if (built !== undefined) {
    context.note('daemon', 'scrape latency needs the real-table part (--only real,daemon)');
  }
  if (built !== undefined)
    await attempt(context, 'daemon', () => runDaemonMemoryPart(context, built));
  if (parts.has('cold-start'))
    await attempt(context, 'cold-start', () => runColdStartPart(context));
  if (parts.has('netns')) await attempt(context, 'netns', () => runNetnsPart(context));
  if (parts.has('top-k')) await attempt(context, 'top-k', () => runTopKPart(context));
  if (parts.has('netns-idle'))
    await attempt(context, 'netns-idle', () => runNetnsIdlePart(context));
  if (parts.has('footprint')) await attempt(context, 'footprint', () => runFootprintPart(context));
  if (parts.has('soak')) await attempt(context, 'soak', () => runSoakPart(context));
  if (parts.has('sample-intake'))
    await attempt(context, 'sample-intake', () => runSampleIntakePart(context));
  if (parts.has('basic-auth'))
    await attempt(context, 'basic-auth', () => runBasicAuthPart(context));
  if (parts.has('tracer')) await attempt(context, 'tracer', () => runTracerPart(context));
  if (parts.has('sockstat-fast'))
    await attempt(context, 'sockstat-fast', () => runSockstatFastPart(context));
  if (parts.has('nsenter')) await attempt(context, 'nsenter', () => runNsenterPart(context));
  if (parts.has('conntrack')) await attempt(context, 'conntrack', () => runConntrackPart(context));
}

/** Every run's records, kept where `--report` can render them again. */
function saveRecords(records: readonly BenchRecord[]): string {
  const dir = `${import.meta.dirname}/out/`;
  mkdirSync(dir, { recursive: true });
  const path = `${dir}results-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
  writeFileSync(path, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
  return path;
}

function report(options: BenchOptions, records: readonly BenchRecord[]): void {
  if (options.docs) {
    try {
      writeDocs(records, (message) => process.stderr.write(`${message}\n`));
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  }
  if (!options.json) {
    process.stdout.write(
      `${renderSections(records)}\n${netnsSection(records)}\n${renderGeneratedSections(records)}`,
    );
  }
}

async function main(options: BenchOptions): Promise<void> {
  if (options.report !== undefined) {
    report(options, readRecords(options.report));
    return;
  }
  const context = new BenchContext(options);
  process.once('exit', () => context.cleanup());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Leave through process.exit so every 'exit' cleanup (files, namespaces) runs. `on`,
    // not `once`: the signal can arrive twice (sent to the process and relayed by tsx),
    // and a second one with no listener left kills it before the teardown.
    process.on(signal, () => process.exit(130));
  }
  const started = performance.now();
  context.emit(describeMachine(options));
  try {
    await runParts(context);
  } finally {
    context.cleanup();
  }
  const durationSeconds = Math.round((performance.now() - started) / 1000);
  context.emit({
    kind: 'end',
    durationSeconds,
    loadAverageAtEnd: loadavg().map((load) => Math.round(load * 100) / 100),
  });
  context.log(`the run took ${Math.floor(durationSeconds / 60)} min ${durationSeconds % 60} s`);
  // With --json the records are already on stdout.
  if (!options.json) context.log(`records saved in ${saveRecords(context.records)}`);
  report(options, context.records);
}

const parsed = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
})();
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
} else {
  await main(parsed);
}
