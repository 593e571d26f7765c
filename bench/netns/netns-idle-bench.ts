/**
 * What `--collector.netns` adds to the daemon's CPU on a node of idle pods beside one busy
 * namespace: one namespace holding `--busy` sockets (80k), then 1, 10, 30 and 100 idle ones
 * (a listener each), the daemon at `--sample.interval=1s` with and without
 * `--collector.netns --collector.netns.interval=1s`, this tree's code and, with `--before`,
 * another tree's (the code before walks were skipped), all in one run. Prints a Markdown
 * table for docs/namespaces.md. Run as root: `npx tsx bench/netns/netns-idle-bench.ts --before DIR`.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';
import { processCpuSeconds } from '../lib/measure.js';
import { SpreadTable } from './netns-table.js';

const IDLE_STEPS = [1, 10, 30, 100] as const;
const WINDOW_MS = 10_000;

const { values } = parseArgs({
  options: { before: { type: 'string' }, busy: { type: 'string', default: '80000' } },
});

function cpuSeconds(pid: number): number {
  const { user, system } = processCpuSeconds(pid);
  return user + system;
}

interface DaemonCpu {
  /** CPU seconds per second. */
  readonly cpu: number;
  /** Namespaces the latest round exported (the machine's, not only this bench's). */
  readonly namespaces?: number;
  /** Its first round did not end within FIRST_ROUND_MS. */
  readonly noRound?: boolean;
}

const FIRST_ROUND_MS = 45_000;

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** CPU of a daemon over WINDOW_MS, after its first netns round if any (or FIRST_ROUND_MS). */
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
      // The first round walks every namespace: measure the rounds after it.
      noRound = await waitFor(
        async () =>
          /^tcpstate_netns_last_round_timestamp_seconds /m.test(await scrape(exporter.url)) ||
          undefined,
        { timeoutMs: FIRST_ROUND_MS, intervalMs: 250, describe: () => '' },
      ).then(
        () => false,
        () => true,
      );
    }
    await new Promise((done) => setTimeout(done, 2_000));
    const cpu = cpuSeconds(pid);
    const started = performance.now();
    await new Promise((done) => setTimeout(done, WINDOW_MS));
    const perSecond = (cpuSeconds(pid) - cpu) / ((performance.now() - started) / 1000);
    if (!netns) return { cpu: perSecond };
    const exported = /^tcpstate_netns_namespaces\{outcome="exported"\} (\d+)/m.exec(
      await scrape(exporter.url),
    )?.[1];
    return {
      cpu: perSecond,
      ...(exported === undefined ? {} : { namespaces: Number(exported) }),
      ...(noRound ? { noRound } : {}),
    };
  } finally {
    await exporter.daemon.stop();
  }
}

const NETNS = ['--collector.netns', '--collector.netns.interval=1s', '--collector.netns.max=1000'];
const log = (message: string) => process.stderr.write(`${message}\n`);
const beforeEntry =
  values.before === undefined
    ? undefined
    : relative(REPO_ROOT, resolve(values.before, 'src/main.ts'));

const tables: SpreadTable[] = [];
const rows: string[] = [];
try {
  tables.push(await SpreadTable.build(1, Number(values.busy), log));
  let idle = 0;
  for (const step of IDLE_STEPS) {
    // Two sockets per namespace: its IPv4 and IPv6 listeners.
    tables.push(await SpreadTable.build(step - idle, 2 * (step - idle), log));
    idle = step;
    const alone = (await daemonCpu([])).cpu;
    const after = await daemonCpu(NETNS);
    const before =
      beforeEntry === undefined ? { cpu: Number.NaN } : await daemonCpu(NETNS, beforeEntry);
    const cell = ({ cpu, noRound }: DaemonCpu) =>
      `${(cpu * 1000).toFixed(0)} (${(cpu / alone).toFixed(1)}×${noRound ? ', no round ended' : ''})`;
    rows.push(
      `| ${idle} + 1 busy | ${after.namespaces ?? '?'} | ${(alone * 1000).toFixed(0)} | ${cell(before)} | ${cell(after)} |`,
    );
    log(rows.at(-1) as string);
  }
} finally {
  for (const table of tables) await table.close();
}
process.stdout.write(
  [
    '| bench namespaces | on the machine | daemon alone, ms CPU/s | with netns, before | with netns, after |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n'),
);
