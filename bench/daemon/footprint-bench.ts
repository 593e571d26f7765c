/**
 * The daemon's footprint against floors measured in the same run (docs/reliability.md):
 *
 * - scrape: a 200k-socket synthetic table sampled every second; /metrics throughput
 *   against /-/healthy under autocannon (10 connections, Prometheus' Accept headers and
 *   gzip), then /metrics and /-/healthy latency at 10 requests/s each for 30 s, timed by curl
 *   over one kept-alive connection (p50, p90, p99, max); then the same for two floors
 *   answering the same gzip bytes: a bare node:http server and nginx (when installed).
 * - memory: RSS (VmRSS, every thread; anonymous and file-backed pages apart) at idle (an
 *   empty namespace) and at ~100k real sockets, against node_exporter's tcpstat collector and
 *   the prescribed stack doing nothing (fastify, prom-client, pino, a worker) on the same
 *   namespace, all sampled/scraped every second for 30 s.
 *
 * `npm run bench -- --only footprint [--baseline REV]`: with a baseline, each half runs that
 * revision's daemon right before this tree's, so that before and after share the machine's load.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { launcherOf } from '../../testkit/exporter/launcher.js';
import { missingCapability } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { checkout } from '../lib/checkout.js';
import type { BenchContext } from '../lib/context.js';
import { RealTable } from '../lib/real-table.js';
import type { FootprintMemory, LatencySummary, RssReading } from '../lib/results.js';
import { writeSyntheticProcfs } from '../lib/synthetic-table.js';
import { buildDaemon } from './daemon-bench.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
const PROMETHEUS_REQUEST_HEADERS = {
  accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  'accept-encoding': 'gzip',
};
/** The same headers as autocannon arguments. */
const PROMETHEUS_HEADERS = Object.entries(PROMETHEUS_REQUEST_HEADERS).flatMap(([name, value]) => [
  '-H',
  `${name}=${value}`,
]);
/** Where this part's files go; set for the part's duration. */
let work = '';
let log: (message: string) => void = () => {};

/** CPU time of the process's main thread (the HTTP server's event loop), in ms. */
function mainThreadCpuMs(pid: number): number {
  const onCpuNs = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'latin1').split(' ')[0];
  return Number(onCpuNs) / 1e6;
}

/**
 * `script` started as the daemon's #! line starts it (its environment through `env`, which
 * execs node under the same pid, and its node flags): the command and its arguments.
 */
function asLaunched(cli: string, script: string, args: readonly string[]): [string, string[]] {
  const { env, nodeFlags } = launcherOf(cli);
  return [
    'env',
    [
      ...Object.entries(env).map(([name, value]) => `${name}=${value}`),
      process.execPath,
      ...nodeFlags,
      script,
      ...args,
    ],
  ];
}

function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  return Number(kib) / 1024;
}

/** One kept-alive connection, as Prometheus keeps one per target. */
const AGENT = new Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string, headers: Record<string, string> = {}): Promise<Buffer> {
  return once(url, headers).catch((error: NodeJS.ErrnoException) => {
    // The kept-alive socket may have been closed by the server while it sat idle (under
    // autocannon's load): the next request takes a new one, as Prometheus' would.
    if (error.code !== 'ECONNRESET') throw error;
    return once(url, headers);
  });
}

function once(url: string, headers: Record<string, string>): Promise<Buffer> {
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

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

function summary(values: readonly number[]): LatencySummary {
  const ordered = sorted(values);
  const at = (p: number) => Math.round(percentile(ordered, p) * 1000) / 1000;
  return { p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: at(100), requests: ordered.length };
}

/** curl paces its requests itself (--rate, curl >= 7.84), off this process's event loop. */
const CURL_HAS_RATE = execFileSync('curl', ['--help', 'all'], { encoding: 'utf8' }).includes(
  '--rate',
);

/**
 * Each of `paths` 10 times a second for 30 s, alternating, over one kept-alive connection;
 * the latencies (ms) per path. curl times each transfer (time_total) so that the client adds
 * as little as it can; without --rate the Node loop below does it and adds its own latency.
 */
async function timeRequests(
  base: string,
  paths: readonly string[],
  label: string,
): Promise<Map<string, number[]>> {
  const count = 300 * paths.length;
  const order = Array.from({ length: count }, (_, i) => paths[i % paths.length] as string);
  const latencies = new Map(paths.map((path) => [path, [] as number[]]));
  if (CURL_HAS_RATE) {
    const args = [
      '-s',
      '--rate',
      `${10 * paths.length}/s`,
      '-w',
      '%{url} %{time_total} %{num_connects}\\n',
    ];
    for (const [name, value] of Object.entries(PROMETHEUS_REQUEST_HEADERS)) {
      args.push('-H', `${name}: ${value}`);
    }
    for (const path of order) args.push('-o', '/dev/null', `${base}${path}`);
    const lines = execFileSync('curl', args, { encoding: 'utf8', timeout: 120_000 }).trim();
    let connects = 0;
    for (const line of lines.split('\n')) {
      const [at, seconds, connected] = line.split(' ');
      connects += Number(connected);
      latencies.get(new URL(at ?? '').pathname)?.push(Number(seconds) * 1000);
    }
    if (connects !== 1) log(`${label}: curl opened ${connects} connections, not 1`);
    return latencies;
  }
  log(`${label}: THIS CURL HAS NO --rate: timing with a Node.js loop, which adds its own latency`);
  const started = performance.now();
  for (const [i, path] of order.entries()) {
    await sleep(started + (i * 1000) / (10 * paths.length) - performance.now());
    const at = performance.now();
    await get(`${base}${path}`, PROMETHEUS_REQUEST_HEADERS);
    latencies.get(path)?.push(performance.now() - at);
  }
  return latencies;
}

async function waitForListen(url: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    try {
      await get(url);
      return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`nothing answered at ${url}`);
}

/** An nginx serving `bodyFile` for every path, when nginx is installed; its stop function. */
function startNginx(bodyFile: string, port: number): (() => Promise<void>) | undefined {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
  if (nginx === undefined) return undefined;
  const prefix = join(work, 'nginx');
  mkdirSync(prefix, { recursive: true });
  copyFileSync(bodyFile, join(prefix, 'body'));
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `daemon off; master_process off; worker_processes 1; user root;
pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
  access_log off; types {} default_type application/openmetrics-text;
  client_body_temp_path ${prefix}/client; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port}; root ${prefix};
    location / { add_header Content-Encoding gzip; try_files /body =404; }
  }
}
`,
  );
  const child = spawn(
    nginx,
    ['-p', prefix, '-e', `${prefix}/error.log`, '-c', `${prefix}/nginx.conf`],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return () => stop(child);
}

/**
 * The floors of the scrape latency target, timed like our daemon: a bare node:http server
 * (launched like the daemon) and nginx, each answering the same gzip body to
 * every request; their /metrics-path p99 by name.
 */
async function measureFloors(
  cli: string,
  bodyFile: string,
  label: string,
): Promise<Record<string, LatencySummary>> {
  const floors: Record<string, LatencySummary> = {};
  const measure = async (floor: string, url: string) => {
    await waitForListen(url);
    const latencies = await timeRequests(url, ['/metrics', '/-/healthy'], `${label}: ${floor}`);
    floors[floor] = summary([...latencies.values()].flat());
  };
  const port = 10_900 + Math.floor(Math.random() * 50);
  const bare = spawn(
    ...asLaunched(cli, join(import.meta.dirname, 'floor-http.mjs'), [
      `--web.listen-address=127.0.0.1:${port}`,
      `--body=${bodyFile}`,
    ]),
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    await measure('node:http', `http://127.0.0.1:${port}`);
  } finally {
    await stop(bare);
  }
  const stopNginx = startNginx(bodyFile, port + 50);
  if (stopNginx === undefined) {
    log(`${label}: NGINX IS NOT INSTALLED: no nginx floor (apt-get install nginx-light)`);
    return floors;
  }
  try {
    await measure('nginx', `http://127.0.0.1:${port + 50}`);
  } finally {
    await stopNginx();
  }
  return floors;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function scrapePart(context: BenchContext, cli: string, build: string): Promise<void> {
  const sockets = 200_000;
  const table = writeSyntheticProcfs(join(work, 'synthetic'), sockets);
  const port = 10_400 + Math.floor(Math.random() * 500);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    ...asLaunched(cli, cli, [
      `--web.listen-address=127.0.0.1:${port}`,
      `--path.procfs=${table.root}`,
      '--sample.interval=1s',
      '--log.level=warn',
    ]),
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
    const body = await get(`${url}/metrics`, PROMETHEUS_REQUEST_HEADERS);
    const bodyFile = join(work, 'metrics.gz');
    writeFileSync(bodyFile, body);
    // /metrics and /-/healthy each 10 times a second, alternating: the machine's own noise
    // (the worker sampling 200k sockets every second on 2 shared cores) shows in both.
    const cpuBefore = mainThreadCpuMs(child.pid as number);
    const started = performance.now();
    const ours = await timeRequests(url, ['/metrics', '/-/healthy'], build);
    const mainThreadCpuMsPerSecond =
      (mainThreadCpuMs(child.pid as number) - cpuBefore) / ((performance.now() - started) / 1000);
    // The floors answer the same bytes in the same pattern while our daemon keeps sampling
    // (its worker loads the machine as during our own figures; its HTTP side sits idle).
    const floors = await measureFloors(cli, bodyFile, build);
    context.emit({
      kind: 'footprint-scrape',
      build,
      sockets,
      healthyPerSecond: Math.round(healthy.requests.average),
      metricsPerSecond: Math.round(metrics.requests.average),
      metricsNon2xx: metrics.non2xx,
      bodyBytes: body.length,
      timedByCurl: CURL_HAS_RATE,
      mainThreadCpuMsPerSecond: Math.round(mainThreadCpuMsPerSecond * 10) / 10,
      metrics: summary(ours.get('/metrics') ?? []),
      healthy: summary(ours.get('/-/healthy') ?? []),
      floors,
    });
  } finally {
    await stop(child);
  }
}

/** VmRSS split by smaps_rollup into anonymous pages and the rest (file-backed: the binary, libraries). */
function memory(pid: number, peak: number): RssReading {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1]);
  const round = (mib: number) => Math.round(mib * 10) / 10;
  const rss = kib('Rss') / 1024;
  const anon = kib('Anonymous') / 1024;
  // One reading of one file, so that anon + file is exactly the RSS printed beside them.
  return {
    rssMiB: round(rss),
    anonMiB: round(anon),
    fileMiB: round(rss - anon),
    peakMiB: round(peak),
  };
}

/**
 * Our RSS, node_exporter's and the prescribed stack's doing nothing (bench/daemon/floor-stack.mjs,
 * launched like ours) in `ns`, after 30 samples and scrapes a second apart.
 */
async function measureIn(
  cli: string,
  spawnIn: (command: string, args: string[]) => ChildProcess,
  where: FootprintMemory['where'],
  build: string,
): Promise<FootprintMemory> {
  const processes = {
    ours: spawnIn(
      ...asLaunched(cli, cli, [
        '--web.listen-address=127.0.0.1:10120',
        '--path.procfs=/proc',
        '--sample.interval=1s',
        '--log.level=warn',
      ]),
    ),
    theirs: spawnIn('prometheus-node-exporter', [
      '--collector.disable-defaults',
      '--collector.tcpstat',
      '--web.listen-address=127.0.0.1:10121',
    ]),
    floor: spawnIn(
      ...asLaunched(cli, join(import.meta.dirname, 'floor-stack.mjs'), [
        '--web.listen-address=127.0.0.1:10122',
      ]),
    ),
  };
  const { ours, theirs, floor } = processes;
  for (const child of Object.values(processes)) {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  try {
    await sleep(3_000);
    let sockets = 0;
    const peak = { ours: 0, theirs: 0, floor: 0 };
    for (let second = 0; second < 30; second++) {
      await sleep(1_000);
      // Scrapes from inside the namespace: loopback there.
      spawnIn('curl', ['-s', '-o', '/dev/null', 'http://127.0.0.1:10121/metrics']);
      spawnIn('curl', ['-s', '-o', '/dev/null', 'http://127.0.0.1:10122/metrics']);
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
      peak.floor = Math.max(peak.floor, rssMiB(floor.pid as number));
    }
    return {
      kind: 'footprint-memory',
      build,
      where,
      sockets,
      ours: memory(ours.pid as number, peak.ours),
      nodeExporter: memory(theirs.pid as number, peak.theirs),
      floor: memory(floor.pid as number, peak.floor),
    };
  } finally {
    await Promise.all(Object.values(processes).map(stop));
  }
}

/** Each daemon in `clis` (build → cli.js) in turn, on the same namespaces. */
async function memoryPart(context: BenchContext, clis: ReadonlyMap<string, string>): Promise<void> {
  const lab = new NetnsLab('tsf');
  try {
    const idle = lab.addNamespace('idle');
    execFileSync('ip', ['netns', 'exec', idle, 'ip', 'link', 'set', 'lo', 'up']);
    for (const [build, cli] of clis) {
      context.emit(
        await measureIn(cli, (command, args) => lab.spawn(idle, command, args), 'idle', build),
      );
    }
  } finally {
    await lab.close();
  }
  // 75 % of the planned size is ESTABLISHED (TIME_WAIT comes only with bursts): ~100k sockets.
  const table = await RealTable.build(context.options.quick ? 13_334 : 133_334, log);
  try {
    for (const [build, cli] of clis) {
      context.emit(
        await measureIn(cli, (command, args) => table.spawn(command, args), 'real table', build),
      );
    }
  } finally {
    await table.close();
  }
}

export async function runFootprintPart(context: BenchContext): Promise<void> {
  const missing = missingCapability({
    netns: true,
    commands: ['curl', 'perl', 'prometheus-node-exporter'],
  });
  if (missing !== undefined) {
    context.note('footprint', `skipped: ${missing}`);
    return;
  }
  work = context.scratchDir('footprint');
  log = (message) => context.log(`footprint: ${message}`);
  const clis = new Map<string, string>();
  const { baseline } = context.options;
  if (baseline !== undefined) {
    log(`building the daemon of ${baseline}`);
    clis.set(baseline, buildDaemon(context, checkout(context, baseline)).cli);
  }
  log('building the daemon of this tree');
  clis.set('this tree', buildDaemon(context).cli);
  for (const [name, cli] of clis) {
    log(`scrape: ${name}`);
    await scrapePart(context, cli, name);
  }
  log('memory');
  await memoryPart(context, clis);
}
