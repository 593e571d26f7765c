/**
 * What reading every network namespace costs: for 1, 10 and 100 namespaces holding the
 * same sockets in all, one round reads each namespace's `/proc/<pid>/net/tcp` and `tcp6`
 * with the engine's reader and accumulator (as the netns collector does), against `cat`
 * of the same files. Each read walks the kernel's socket hash, which all namespaces share,
 * so a round costs about namespaces × (the hash's buckets + every socket on the machine).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { SocketAccumulator } from '../../src/snapshot/socket-accumulator.js';
import { procfsSysctls, readEphemeralSettings } from '../../src/sources/sysctl.js';
import { TcpTableReader } from '../../src/sources/tcp-table.js';
import { runExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { missingCapability } from '../../testkit/kernel/capabilities.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';
import type { BenchContext } from '../lib/context.js';
import {
  addSamples,
  type CostSample,
  emptySample,
  meanCpuSeconds,
  measureCommand,
  measureInProcess,
  medianWallSeconds,
  settle,
  warmUp,
} from '../lib/measure.js';
import { formatSize } from '../lib/options.js';
import { machineSocketCount } from '../lib/real-table.js';
import { SpreadTable } from './netns-table.js';

export const NAMESPACE_COUNTS = [1, 10, 100] as const;
/** Larger tables read 100 times per round would take minutes a round. */
export const NETNS_MAX_SIZE = 100_000;
/** Runs per configuration: at least this many, then until the time is spent. */
const MIN_RUNS = 5;
const MAX_RUNS = 15;
const RUN_SECONDS = 6;

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
/** Scrapes at once and seconds of them: a Prometheus or two, not a load test. */
const SCRAPE_CONNECTIONS = 4;
const SCRAPE_SECONDS = 8;

/**
 * /metrics latency of the daemon with --collector.netns over this table's namespaces, rounds
 * back to back (interval 1s) so that scrapes always meet a round in progress.
 */
async function measureScrapes(context: BenchContext, namespaces: number, size: number) {
  const exporter = await startExporter([
    '--path.procfs=/proc',
    '--collector.netns',
    '--collector.netns.interval=1s',
    '--collector.netns.max=1000',
  ]);
  try {
    const url = `${exporter.url}/metrics`;
    let exported = 0;
    let deferred = '';
    let body = '';
    // First walks are spread over the first rounds (each leaves what is past its budget to
    // the next): scrapes are measured once a round exported them all and deferred none.
    await waitFor(
      async () => {
        body = await (await fetch(url)).text();
        const match = /^tcpstate_netns_namespaces\{outcome="exported"\} (\d+)/m.exec(body);
        exported = Number(match?.[1] ?? 0);
        deferred = /^tcpstate_netns_round_deferred_walks (\S+)/m.exec(body)?.[1] ?? '?';
        return exported >= namespaces && deferred === '0' ? true : undefined;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 500,
        describe: () => `exported ${exported} namespaces, ${deferred} walks deferred`,
      },
    );
    const result = JSON.parse(
      execFileSync(
        process.execPath,
        [AUTOCANNON, '-c', String(SCRAPE_CONNECTIONS), '-d', String(SCRAPE_SECONDS), '-j', url],
        { encoding: 'utf8', timeout: (SCRAPE_SECONDS + 60) * 1000 },
      ),
    ) as { latency: { p50: number; p99: number }; requests: { total: number } };
    const rounds = /^tcpstate_netns_round_duration_seconds (\S+)/m.exec(body)?.[1];
    context.emit({
      kind: 'netns-scrape',
      namespaces,
      size,
      exported,
      bodyBytes: Buffer.byteLength(body),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      requests: result.requests.total,
      roundSeconds: Number(rounds ?? Number.NaN),
    });
  } finally {
    await exporter.daemon.stop();
  }
}

/** Why the daemon cannot be measured with --collector.netns here, or undefined. */
async function netnsCollectorMissing(): Promise<string | undefined> {
  const help = await runExporter(['--help']);
  return help.stdout.includes('--collector.netns')
    ? undefined
    : 'the daemon has no --collector.netns yet';
}

/** One round's reader: every namespace's tcp and tcp6, each into a fresh aggregate. */
function namespaceRound(pids: readonly number[]): () => number {
  const reader = new TcpTableReader();
  const accumulator = new SocketAccumulator();
  const settings = readEphemeralSettings(procfsSysctls('/proc'));
  const limits = defaultSampleOptions('/proc');
  return () => {
    let sockets = 0;
    for (const pid of pids) {
      accumulator.begin(settings);
      sockets += reader.read(`/proc/${pid}/net/tcp`, 'ipv4', accumulator).sockets;
      sockets += reader.read(`/proc/${pid}/net/tcp6`, 'ipv6', accumulator).sockets;
      accumulator.finish(limits);
    }
    return sockets;
  };
}

async function measureSpread(
  context: BenchContext,
  namespaces: number,
  size: number,
  scrapes: boolean,
) {
  const label = `netns ${namespaces} × ${formatSize(size)}`;
  const table = await SpreadTable.build(namespaces, size, (message) =>
    context.log(`${label}: ${message}`),
  );
  try {
    const round = namespaceRound(table.pids);
    let sockets = 0;
    const engine = () => {
      sockets = round();
    };
    const cat = `cat ${table.pids.map((pid) => `/proc/${pid}/net/tcp /proc/${pid}/net/tcp6`).join(' ')}`;
    warmUp(engine);
    let engineSample = emptySample();
    let catSample = emptySample();
    const started = performance.now();
    for (
      let run = 0;
      run < MAX_RUNS && (run < MIN_RUNS || performance.now() - started < RUN_SECONDS * 1000);
      run++
    ) {
      // Side by side, starting with each in turn: the kernel's time drifts over seconds.
      const engineFirst = run % 2 === 0;
      if (!engineFirst) catSample = addSamples(catSample, measureCommand(cat, 1));
      await settle();
      engineSample = addSamples(engineSample, measureInProcess(1, engine));
      if (engineFirst) catSample = addSamples(catSample, measureCommand(cat, 1));
    }
    const machineSockets = machineSocketCount();
    context.emit({
      kind: 'netns',
      namespaces,
      size,
      sockets,
      ...(machineSockets !== undefined && { machineSockets }),
      runs: engineSample.runs,
      engine: summary(engineSample),
      cat: summary(catSample),
    });
    context.log(
      `${label}: engine ${(meanCpuSeconds(engineSample) * 1000).toFixed(1)} ms CPU, cat ${(meanCpuSeconds(catSample) * 1000).toFixed(1)} ms (${engineSample.runs} runs, ${sockets} sockets seen)`,
    );
    if (scrapes) await measureScrapes(context, namespaces, size);
  } finally {
    await table.close();
  }
}

function summary(sample: CostSample) {
  return {
    cpuSeconds: meanCpuSeconds(sample),
    userSeconds: sample.userSeconds / sample.runs,
    systemSeconds: sample.systemSeconds / sample.runs,
    wallSeconds: medianWallSeconds(sample),
  };
}

export async function runNetnsPart(context: BenchContext): Promise<void> {
  const missing = missingCapability({ netns: true, commands: ['hyperfine', 'perl'] });
  if (missing !== undefined) {
    context.note('netns', `every-namespace cost skipped: ${missing}`);
    return;
  }
  const sizes = context.options.sizes.filter((size) => size <= NETNS_MAX_SIZE);
  if (sizes.length < context.options.sizes.length) {
    context.note(
      'netns',
      `sizes above ${formatSize(NETNS_MAX_SIZE)} left out: 100 namespaces read the whole hash 100 times a round`,
    );
  }
  const scrapesMissing = await netnsCollectorMissing();
  if (scrapesMissing !== undefined)
    context.note('netns', `/metrics latency left out: ${scrapesMissing}`);
  for (const size of sizes) {
    // Scrape latency on the smallest table only: what it shows is namespaces, not sockets.
    const scrapes = scrapesMissing === undefined && size === sizes[0];
    for (const namespaces of NAMESPACE_COUNTS) {
      await measureSpread(context, namespaces, size, scrapes).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        context.note(
          'netns',
          `${namespaces} namespaces × ${formatSize(size)} failed: ${message.split('\n').slice(0, 3).join(' ')}`,
        );
      });
    }
  }
}
