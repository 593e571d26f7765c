/**
 * The daemon's footprint, for issue-level before/after figures (docs/benchmarks.md):
 *
 * - scrape: a 200k-socket synthetic table sampled every second; /metrics throughput
 *   against /-/healthy under autocannon (10 connections, Prometheus' Accept headers and
 *   gzip), then /metrics latency at a steady 10 scrapes/s for 30 s (p50, p99).
 * - memory: RSS (VmRSS, every thread) at idle (an empty namespace) and at ~100k real
 *   sockets, against node_exporter's tcpstat collector on the same namespace, both
 *   sampled/scraped every second for 30 s.
 *
 *   npx tsx bench/footprint-bench.ts [--tree DIR] [--baseline DIR] [--only scrape|memory]
 *
 * --tree compiles and runs the daemon of another checkout (e.g. the base commit) with this
 * checkout's tables, so both sides run on the same input. --baseline runs each part for that
 * checkout too, right before this one's, so that before and after share the machine's load.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NetnsLab } from '../testkit/kernel/netns.js';
import { compileTree } from './daemon-bench.js';
import { RealTable } from './real-table.js';
import { writeSyntheticProcfs } from './synthetic-table.js';

const REPO = resolve(import.meta.dirname, '..');
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
const PROMETHEUS_HEADERS = [
  '-H',
  'accept=application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  '-H',
  'accept-encoding=gzip',
];
const { values: flags } = parseArgs({
  options: {
    tree: { type: 'string', default: REPO },
    baseline: { type: 'string' },
    only: { type: 'string' },
  },
});
const work = mkdtempSync(join(tmpdir(), 'footprint-'));

function log(message: string): void {
  process.stderr.write(`footprint: ${message}\n`);
}

/** The tree's daemon compiled like the package (older checkouts name dist/cli.js as bin). */
function build(tree: string, name: string): string {
  return compileTree(tree, join(work, name));
}

/** CPU time of the process's main thread (the HTTP server's event loop), in ms. */
function mainThreadCpuMs(pid: number): number {
  const onCpuNs = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'latin1').split(' ')[0];
  return Number(onCpuNs) / 1e6;
}

/** The node flags of the entry's `#!/usr/bin/env -S node ...` line: the daemon runs as installed. */
function launcherFlags(cli: string): string[] {
  const shebang = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  return /^#!\S*env -S node (.*)$/.exec(shebang)?.[1]?.split(' ') ?? [];
}

function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  return Number(kib) / 1024;
}

/** One kept-alive connection, as Prometheus keeps one per target. */
const AGENT = new Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string, headers: Record<string, string> = {}): Promise<Buffer> {
  return new Promise((done, fail) => {
    request(url, { headers, agent: AGENT }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done(Buffer.concat(chunks)));
    })
      .on('error', fail)
      .end();
  });
}

async function waitForSample(url: string): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    try {
      const text = (await get(`${url}/metrics`)).toString();
      if (/^tcpstate_sample_duration_seconds_count [1-9]/m.test(text)) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the daemon never sampled');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function scrapePart(cli: string, label: string): Promise<void> {
  const table = writeSyntheticProcfs(join(work, 'synthetic'), 200_000);
  const port = 10_400 + Math.floor(Math.random() * 500);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      ...launcherFlags(cli),
      cli,
      `--web.listen-address=127.0.0.1:${port}`,
      `--path.procfs=${table.root}`,
      '--sample.interval=1s',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    await waitForSample(url);
    const throughput = (path: string, extra: string[]) => {
      const result = JSON.parse(
        execFileSync(
          process.execPath,
          [AUTOCANNON, '-c', '10', '-d', '8', '-j', ...extra, url + path],
          {
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          },
        ),
      ) as { requests: { average: number }; latency: { p99: number }; non2xx: number };
      return result;
    };
    throughput('/-/healthy', []); // warm-up
    const healthy = throughput('/-/healthy', []);
    const metrics = throughput('/metrics', PROMETHEUS_HEADERS);
    log(
      `${label}: throughput: /-/healthy ${healthy.requests.average.toFixed(0)} req/s, /metrics ${metrics.requests.average.toFixed(0)} req/s ` +
        `(${(healthy.requests.average / metrics.requests.average).toFixed(2)}x slower; non-2xx ${metrics.non2xx})`,
    );
    // /metrics and /-/healthy each 10 times a second, alternating: the machine's own noise
    // (the worker sampling 200k sockets every second on 2 shared cores) shows in both.
    const latencies: Record<string, number[]> = { '/metrics': [], '/-/healthy': [] };
    const cpuBefore = mainThreadCpuMs(child.pid as number);
    let failures = 0;
    const started = performance.now();
    for (let i = 0; i < 600; i++) {
      await sleep(started + i * 50 - performance.now());
      const path = i % 2 === 0 ? '/metrics' : '/-/healthy';
      const at = performance.now();
      try {
        await get(`${url}${path}`, {
          accept: 'application/openmetrics-text;version=1.0.0',
          'accept-encoding': 'gzip',
        });
        latencies[path]?.push(performance.now() - at);
      } catch (error) {
        // A kept-alive connection the server closed (its keep-alive timeout): counted, not fatal.
        failures++;
        log(`${label}: ${path} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures > 0) log(`${label}: ${failures} of 600 requests failed`);
    const cpuPerSecond =
      (mainThreadCpuMs(child.pid as number) - cpuBefore) / ((performance.now() - started) / 1000);
    log(
      `${label}: main thread CPU ${cpuPerSecond.toFixed(1)} ms/s while sampling every 1 s and serving 20 requests/s`,
    );
    for (const [path, values] of Object.entries(latencies)) {
      values.sort((a, b) => a - b);
      log(
        `${label}: ${path} at 10/s for 30 s, 200k sockets sampled every 1 s: p50 ${percentile(values, 50).toFixed(2)} ms, ` +
          `p99 ${percentile(values, 99).toFixed(2)} ms, max ${percentile(values, 100).toFixed(2)} ms`,
      );
    }
  } finally {
    await stop(child);
  }
}

/** Our RSS and node_exporter's in `ns`, after 30 samples and scrapes a second apart. */
async function measureIn(
  cli: string,
  spawnIn: (command: string, args: string[]) => ChildProcess,
  label: string,
): Promise<void> {
  const ours = spawnIn(process.execPath, [
    ...launcherFlags(cli),
    cli,
    '--web.listen-address=127.0.0.1:10120',
    '--path.procfs=/proc',
    '--sample.interval=1s',
    '--log.level=warn',
  ]);
  const theirs = spawnIn('prometheus-node-exporter', [
    '--collector.disable-defaults',
    '--collector.tcpstat',
    '--web.listen-address=127.0.0.1:10121',
  ]);
  for (const child of [ours, theirs]) {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  try {
    await sleep(3_000);
    let sockets = 0;
    const peak = { ours: 0, theirs: 0 };
    for (let second = 0; second < 30; second++) {
      await sleep(1_000);
      // Scrapes from inside the namespace: loopback there.
      spawnIn('curl', ['-s', '-o', '/dev/null', 'http://127.0.0.1:10121/metrics']);
      const text = spawnIn('curl', ['-s', 'http://127.0.0.1:10120/metrics']);
      let body = '';
      text.stdout?.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      await new Promise((resolve) => text.once('exit', resolve));
      const counted = [...body.matchAll(/^tcpstate_sockets\{[^}]*\} (\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
      if (counted > 0) sockets = counted;
      peak.ours = Math.max(peak.ours, rssMiB(ours.pid as number));
      peak.theirs = Math.max(peak.theirs, rssMiB(theirs.pid as number));
    }
    log(
      `${label} (${sockets} sockets): tcpstate-exporter RSS ${rssMiB(ours.pid as number).toFixed(1)} MiB ` +
        `(peak ${peak.ours.toFixed(1)}), node_exporter tcpstat ${rssMiB(theirs.pid as number).toFixed(1)} MiB (peak ${peak.theirs.toFixed(1)})`,
    );
  } finally {
    await Promise.all([stop(ours), stop(theirs)]);
  }
}

/** Each daemon in `clis` (label → cli.js) in turn, on the same namespaces. */
async function memoryPart(clis: ReadonlyMap<string, string>): Promise<void> {
  const lab = new NetnsLab('tsf');
  try {
    const idle = lab.addNamespace('idle');
    execFileSync('ip', ['netns', 'exec', idle, 'ip', 'link', 'set', 'lo', 'up']);
    for (const [label, cli] of clis) {
      await measureIn(cli, (command, args) => lab.spawn(idle, command, args), `${label}: idle`);
    }
  } finally {
    await lab.close();
  }
  // 75 % of the planned size is ESTABLISHED (TIME_WAIT comes only with bursts): ~100k sockets.
  const table = await RealTable.build(133_334, log);
  try {
    for (const [label, cli] of clis) {
      await measureIn(cli, (command, args) => table.spawn(command, args), `${label}: real table`);
    }
  } finally {
    await table.close();
  }
}

try {
  const clis = new Map<string, string>();
  if (flags.baseline !== undefined) {
    log(`building the baseline daemon of ${flags.baseline}`);
    clis.set('baseline', build(flags.baseline, 'baseline'));
  }
  log(`building the daemon of ${flags.tree}`);
  clis.set('this tree', build(flags.tree, 'daemon'));
  if (flags.only !== 'memory') {
    for (const [label, cli] of clis) await scrapePart(cli, label);
  }
  if (flags.only !== 'scrape') await memoryPart(clis);
} finally {
  rmSync(work, { recursive: true, force: true });
}
