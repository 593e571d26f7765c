/**
 * The daemon as shipped (src compiled with tsc, run with node): its memory after 100
 * samples of each synthetic table, and /metrics latency under autocannon (50
 * connections) while it samples a real table inside the namespace every 5 s.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../lib/context.js';
import { formatSize } from '../lib/options.js';
import type { RealTable } from '../lib/real-table.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
const SAMPLES = 100;
const LATENCY_CONNECTIONS = 50;

export interface DaemonBuild {
  readonly cli: string;
}

/**
 * Compiles the daemon into a scratch directory laid out like the package (dist/ next to
 * package.json, node_modules reachable), so it runs exactly as `npm start` would. `tree`
 * is this checkout, or another revision's files (the cold-start part's baseline).
 */
/** Builds by run and tree: the daemon, cold-start and footprint parts share one compile. */
const builds = new WeakMap<BenchContext, Map<string, DaemonBuild>>();

export function buildDaemon(context: BenchContext, tree = REPO): DaemonBuild {
  const byTree = builds.get(context) ?? new Map<string, DaemonBuild>();
  builds.set(context, byTree);
  const built = byTree.get(tree);
  if (built !== undefined) return built;
  const dir = context.scratchDir('daemon');
  context.log(`daemon: compiling ${tree === REPO ? 'src' : `${tree}/src`} with tsc`);
  const build = { cli: compileTree(tree, dir) };
  byTree.set(tree, build);
  return build;
}

/**
 * Compiles `tree`'s src like the package (dist/ beside its package.json, this checkout's
 * node_modules) into `dir`; returns the entry its package.json names as the bin.
 */
export function compileTree(tree: string, dir: string): string {
  execFileSync(
    process.execPath,
    [
      join(REPO, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(tree, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
      '--sourceMap',
      'false',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 },
  );
  const packageJson = join(tree, 'package.json');
  copyFileSync(packageJson, join(dir, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  const { bin } = JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> };
  return join(dir, Object.values(bin)[0] ?? 'dist/main.js');
}

function daemonArgs(
  build: DaemonBuild,
  listen: string,
  procfs: string,
  interval: string,
): string[] {
  return [
    build.cli,
    `--web.listen-address=${listen}`,
    `--path.procfs=${procfs}`,
    `--sample.interval=${interval}`,
    '--log.level=warn',
  ];
}

/** Value of an unlabelled series, or the sum over a labelled family's series. */
function metric(text: string, name: string): number {
  let total = 0;
  let found = false;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    total += Number(match[1]);
    found = true;
  }
  return found ? total : Number.NaN;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function scrapeUntil(url: string, samples: number, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const text = await (await fetch(url)).text();
      if (metric(text, 'tcpstate_sample_duration_seconds_count') >= samples) return text;
    } catch (error) {
      if (Date.now() > until) throw error;
    }
    if (Date.now() > until) throw new Error(`daemon did not reach ${samples} samples in time`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** RSS and heap of the daemon after 100 samples of each synthetic table (100 ms apart). */
export async function runDaemonMemoryPart(
  context: BenchContext,
  build: DaemonBuild,
): Promise<void> {
  for (const size of context.options.sizes) {
    const table = context.syntheticTable(size);
    const listen = `127.0.0.1:${await freePort()}`;
    context.log(`daemon: ${SAMPLES} samples of ${formatSize(size)} synthetic sockets`);
    const child = spawn(process.execPath, daemonArgs(build, listen, table.root, '100ms'), {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      const text = await scrapeUntil(`http://${listen}/metrics`, SAMPLES, 600_000);
      context.emit({
        kind: 'daemon',
        size,
        source: 'synthetic',
        sockets: metric(text, 'tcpstate_sockets'),
        samples: metric(text, 'tcpstate_sample_duration_seconds_count'),
        rssBytes: metric(text, 'process_resident_memory_bytes'),
        heapUsedBytes: metric(text, 'nodejs_heap_size_used_bytes'),
      });
    } finally {
      await stop(child);
    }
  }
}

interface AutocannonResult {
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly requests: { readonly total: number };
  readonly errors: number;
  readonly non2xx: number;
  readonly timeouts: number;
}

/**
 * /metrics latency while the daemon samples the real table every 5 s, both inside the
 * namespace; autocannon shares the machine's cores with the daemon and its worker.
 */
export function measureScrapeLatency(
  context: BenchContext,
  build: DaemonBuild,
  table: RealTable,
  size: number,
): void {
  const listen = '127.0.0.1:10120';
  const url = `http://${listen}/metrics`;
  const seconds = context.options.quick ? 3 : 10;
  const child = table.spawn(process.execPath, daemonArgs(build, listen, '/proc', '5s'));
  child.stdout?.resume();
  child.stderr?.resume();
  try {
    table.fetchText(url, '^tcpstate_sample_duration_seconds_count [1-9]', 120_000);
    context.log(
      `daemon: autocannon ${LATENCY_CONNECTIONS} connections for ${seconds} s on ${formatSize(size)} real sockets`,
    );
    const load = (duration: number) =>
      JSON.parse(
        table.exec(
          process.execPath,
          [AUTOCANNON, '-c', String(LATENCY_CONNECTIONS), '-d', String(duration), '-j', url],
          (duration + 60) * 1000,
        ),
      ) as AutocannonResult;
    // A short first round warms the JIT and the connections up; only the second counts.
    load(2);
    const result = load(seconds);
    const text = table.fetchText(url);
    context.emit({
      kind: 'daemon',
      size,
      source: 'real',
      sockets: metric(text, 'tcpstate_sockets'),
      samples: metric(text, 'tcpstate_sample_duration_seconds_count'),
      rssBytes: metric(text, 'process_resident_memory_bytes'),
      heapUsedBytes: metric(text, 'nodejs_heap_size_used_bytes'),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      requests: result.requests.total,
      errors: result.errors + result.non2xx + result.timeouts,
      connections: LATENCY_CONNECTIONS,
      durationSeconds: seconds,
    });
  } finally {
    child.kill('SIGTERM');
  }
}
