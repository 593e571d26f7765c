/**
 * Part `sockstat-fast`: what a fast sockstat reading costs (docs/connect-errors.md, "Cost"):
 * the CPU of one reading of `net/sockstat` and `net/sockstat6` by the daemon's own readers,
 * the node's (`/proc/net`) and through `/proc/<pid>/net` of 1, 10 and 100 lab namespaces, as
 * with --collector.netns. Each count is alternated with the node's reading round by round, so
 * that both share the machine's load.
 */
import type { ChildProcess } from 'node:child_process';
import { readNamespaceSockstat, readSockstat } from '../../src/sources/sockstat.js';
import { missingCapability } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import type { BenchContext } from '../lib/context.js';

const COUNTS = [1, 10, 100] as const;
/** Readings per measurement: enough CPU time to rise above the clock's resolution. */
const READINGS = 400;
const ROUNDS = 7;

/** CPU (user + system) in ms of one reading of every root's sockstat files. */
function cpuPerReading(roots: readonly string[], read: (root: string) => unknown): number {
  const started = process.cpuUsage();
  for (let reading = 0; reading < READINGS; reading++) {
    for (const root of roots) read(root);
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000 / READINGS;
}

export async function runSockstatFastPart(context: BenchContext): Promise<void> {
  const missing = missingCapability({ netns: true, commands: ['sleep'] });
  if (missing !== undefined) {
    context.note('sockstat-fast', `skipped: ${missing}`);
    return;
  }
  const rounds = Math.max(2, Math.round(ROUNDS * context.options.effort));
  const lab = new NetnsLab('ssbench');
  const sleepers: ChildProcess[] = [];
  try {
    const max = Math.max(...COUNTS);
    context.log(`sockstat-fast: ${max} namespaces, ${rounds} rounds of ${READINGS} readings`);
    for (let index = 0; index < max; index++) {
      sleepers.push(lab.spawn(lab.addNamespace(`n${index}`), 'sleep', ['600']));
    }
    // ip netns exec execs sleep: its pid is the child's.
    const roots = sleepers.map((child) => `/proc/${child.pid}`);
    // Warm-up, and a check that every sleeper's namespace is readable before timing.
    for (const root of roots) {
      if (readNamespaceSockstat(root) === undefined) throw new Error(`${root}: no TCP inuse/tw`);
    }
    cpuPerReading(['/proc'], readSockstat);
    const node: number[] = [];
    const byCount = new Map<number, number[]>(COUNTS.map((count) => [count, []]));
    for (let round = 0; round < rounds; round++) {
      for (const count of COUNTS) {
        const pair = [
          () => node.push(cpuPerReading(['/proc'], readSockstat)),
          () =>
            byCount.get(count)?.push(cpuPerReading(roots.slice(0, count), readNamespaceSockstat)),
        ];
        // Alternate which side goes first, so a drift in load favours neither.
        for (const side of round % 2 === 0 ? pair : [...pair].reverse()) side();
      }
    }
    context.emit({ kind: 'sockstat-fast', namespaces: 0, readings: READINGS, msPerRound: node });
    for (const count of COUNTS) {
      context.emit({
        kind: 'sockstat-fast',
        namespaces: count,
        readings: READINGS,
        msPerRound: byCount.get(count) ?? [],
      });
    }
  } finally {
    for (const child of sleepers) child.kill();
    await lab.close();
  }
}
