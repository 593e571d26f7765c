/**
 * What `--collector.netns` adds to the daemon's CPU on a node of idle pods beside one busy
 * namespace: one namespace holding 80k sockets, then 1, 10, 30 and 100 idle ones (a
 * listener each), the daemon at `--sample.interval=1s` with and without
 * `--collector.netns --collector.netns.interval=1s`, this tree's code and, with `--baseline
 * REV`, that revision's, all in one run (`npm run bench -- --only netns-idle`,
 * docs/namespaces.md).
 */
import { relative } from 'node:path';
import { REPO_ROOT, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { missingCapability } from '../../testkit/kernel/capabilities.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';
import { checkout } from '../lib/checkout.js';
import type { BenchContext } from '../lib/context.js';
import { processCpuSeconds } from '../lib/measure.js';
import type { DaemonCpu } from '../lib/results.js';
import { SpreadTable } from './netns-table.js';

const IDLE_STEPS = [1, 10, 30, 100] as const;
const QUICK_IDLE_STEPS = [1, 10] as const;
const BUSY_SOCKETS = 80_000;
const QUICK_BUSY_SOCKETS = 10_000;
const WINDOW_MS = 10_000;
/**
 * First walks are spread over the first rounds (each leaves what is past its budget to the
 * next): the window starts after a round that left none, or after this.
 */
const SETTLED_ROUND_MS = 90_000;
const NETNS = ['--collector.netns', '--collector.netns.interval=1s', '--collector.netns.max=1000'];

function cpuSeconds(pid: number): number {
  const { user, system } = processCpuSeconds(pid);
  return user + system;
}

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/**
 * A round ended and left no walk to the next: what every later round costs. A revision
 * whose rounds defer nothing (no tcpstate_netns_round_deferred_walks) settles with its first.
 */
function settled(body: string): boolean {
  if (!/^tcpstate_netns_last_round_timestamp_seconds /m.test(body)) return false;
  const deferred = /^tcpstate_netns_round_deferred_walks (\S+)/m.exec(body)?.[1];
  return deferred === undefined || Number(deferred) === 0;
}

/** CPU of a daemon over WINDOW_MS, after its netns rounds settled if any (or SETTLED_ROUND_MS). */
async function daemonCpu(args: readonly string[], entry?: string): Promise<DaemonCpu> {
  const exporter = await startExporter(
    ['--path.procfs=/proc', '--sample.interval=1s', ...args],
    entry === undefined ? {} : { entry },
  );
  try {
    const pid = exporter.daemon.child.pid as number;
    const netns = args.includes('--collector.netns');
    let noRound = false;
    if (netns) {
      noRound = await waitFor(async () => settled(await scrape(exporter.url)) || undefined, {
        timeoutMs: SETTLED_ROUND_MS,
        intervalMs: 250,
        describe: () => '',
      }).then(
        () => false,
        () => true,
      );
    }
    await new Promise((done) => setTimeout(done, 2_000));
    const cpu = cpuSeconds(pid);
    const started = performance.now();
    await new Promise((done) => setTimeout(done, WINDOW_MS));
    const msPerSecond = ((cpuSeconds(pid) - cpu) * 1000) / ((performance.now() - started) / 1000);
    if (!netns) return { msPerSecond };
    const exported = /^tcpstate_netns_namespaces\{outcome="exported"\} (\d+)/m.exec(
      await scrape(exporter.url),
    )?.[1];
    return {
      msPerSecond,
      ...(exported === undefined ? {} : { namespaces: Number(exported) }),
      ...(noRound ? { noRound } : {}),
    };
  } finally {
    await exporter.daemon.stop();
  }
}

export async function runNetnsIdlePart(context: BenchContext): Promise<void> {
  const missing = missingCapability({ netns: true, commands: ['perl'] });
  if (missing !== undefined) {
    context.note('netns-idle', `skipped: ${missing}`);
    return;
  }
  const { quick } = context.options;
  const busySockets = quick ? QUICK_BUSY_SOCKETS : BUSY_SOCKETS;
  const { baseline } = context.options;
  // startExporter runs a source entry through tsx, relative to the repository.
  const baselineEntry =
    baseline === undefined
      ? undefined
      : relative(REPO_ROOT, `${checkout(context, baseline)}/src/main.ts`);
  const log = (message: string) => context.log(`netns-idle: ${message}`);
  const tables: SpreadTable[] = [];
  try {
    tables.push(await SpreadTable.build(1, busySockets, log));
    let idle = 0;
    for (const step of quick ? QUICK_IDLE_STEPS : IDLE_STEPS) {
      // Two sockets per namespace: its IPv4 and IPv6 listeners.
      tables.push(await SpreadTable.build(step - idle, 2 * (step - idle), log));
      idle = step;
      log(`${idle} idle namespaces beside one of ${busySockets} sockets`);
      const alone = await daemonCpu([]);
      const withNetns = await daemonCpu(NETNS);
      context.emit({
        kind: 'netns-idle',
        idle,
        busySockets,
        windowSeconds: WINDOW_MS / 1000,
        alone,
        withNetns,
        ...(baseline !== undefined &&
          baselineEntry !== undefined && {
            baseline: { revision: baseline, withNetns: await daemonCpu(NETNS, baselineEntry) },
          }),
      });
    }
  } finally {
    for (const table of tables) await table.close();
  }
}
