/**
 * What reading every namespace's sockstat at --collector.sockstat.fast-interval would cost
 * (docs/connect-errors.md, "Cost"): the CPU of one reading of `net/sockstat` and
 * `net/sockstat6` through /proc/<pid>/net for 1, 10 and 100 lab namespaces, against the
 * node's own reading (what the daemon does today) measured in the same run, alternated round
 * by round so that both share the machine's load. Prints the CPU per reading, the share of a
 * core at 250 ms, the ratio to the node's reading, and the load average.
 *
 *   npx tsx bench/tracer/sockstat-namespaces-bench.ts [--rounds N]
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { NetnsLab } from '../../testkit/kernel/netns.js';

const COUNTS = [1, 10, 100] as const;
/** Readings per measurement: enough CPU time to rise above the clock's resolution. */
const READINGS = 400;
const FAST_INTERVAL_MS = 250;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** CPU (user + system) in ms of one reading of every directory's sockstat files. */
function cpuPerReading(netDirs: readonly string[]): number {
  const started = process.cpuUsage();
  for (let reading = 0; reading < READINGS; reading++) {
    for (const dir of netDirs) {
      readFileSync(`${dir}/sockstat`, 'latin1');
      readFileSync(`${dir}/sockstat6`, 'latin1');
    }
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000 / READINGS;
}

const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag < 0 ? 5 : Number(process.argv[roundsFlag + 1]);
const lab = new NetnsLab('ssbench');
const sleepers: ChildProcess[] = [];
try {
  const max = Math.max(...COUNTS);
  for (let index = 0; index < max; index++) {
    sleepers.push(lab.spawn(lab.addNamespace(`n${index}`), 'sleep', ['600']));
  }
  // ip netns exec execs sleep: its pid is the child's.
  const dirs = sleepers.map((child) => `/proc/${child.pid}/net`);
  const loadBefore = loadavg()[0] ?? 0;
  const node: number[] = [];
  const byCount = new Map<number, number[]>(COUNTS.map((count) => [count, []]));
  for (let round = 0; round < rounds; round++) {
    for (const count of COUNTS) {
      const pair = [
        () => node.push(cpuPerReading(['/proc/net'])),
        () => byCount.get(count)?.push(cpuPerReading(dirs.slice(0, count))),
      ];
      // Alternate which side goes first, so a drift in load favours neither.
      for (const side of round % 2 === 0 ? pair : [...pair].reverse()) side();
    }
  }
  const nodeMs = median(node);
  const share = (ms: number): string => `${((ms / FAST_INTERVAL_MS) * 100).toFixed(3)} %`;
  console.log(
    `load average ${loadBefore.toFixed(1)} -> ${(loadavg()[0] ?? 0).toFixed(1)} on ${rounds} rounds of ${READINGS} readings`,
  );
  console.log(
    `node only (/proc/net): ${nodeMs.toFixed(4)} ms a reading, ${share(nodeMs)} of a core at ${FAST_INTERVAL_MS} ms`,
  );
  for (const count of COUNTS) {
    const ms = median(byCount.get(count) ?? []);
    console.log(
      `${count} namespaces: ${ms.toFixed(4)} ms a reading, ${share(ms)} of a core at ${FAST_INTERVAL_MS} ms, ${(ms / nodeMs).toFixed(1)}x the node's`,
    );
  }
} finally {
  for (const child of sleepers) child.kill();
  await lab.close();
}
