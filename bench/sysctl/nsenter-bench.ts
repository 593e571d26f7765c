/**
 * Part `nsenter`: what reading another namespace's sysctls costs (docs/namespace-sysctls.md):
 * the exporter's reader (`nsenter --net` + `grep` from a long-lived reader shell), a first read
 * (its shell started) and reads through a kept shell; a round of 20 lab namespaces through
 * the cache, 4 at once, with the event loop's delay during it against idle; and the first
 * version's way, one `execFile('nsenter')` per read, with how long each call held the loop.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { NsenterSysctlReader } from '../../src/sources/netns-sysctl.js';
import { NamespaceSysctlCache } from '../../src/sources/netns-sysctl-cache.js';
import { NAMESPACE_SYSCTL_NAMES, sysctlPath } from '../../src/sources/sysctl.js';
import { missingCapability } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import type { BenchContext } from '../lib/context.js';

const NAMESPACES = 20;
const CONCURRENCY = 4;
const FIRST_READS = 10;
const KEPT_READS = 30;
const SPAWNS = 10;
const TIMEOUT_MS = 5_000;

/** The event loop's delay p50 and p99 in ms over `during`. */
async function loopDelay(during: () => Promise<void>): Promise<{ p50Ms: number; p99Ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  try {
    await during();
  } finally {
    histogram.disable();
  }
  return { p50Ms: histogram.percentile(50) / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
}

async function timed(read: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await read();
  return performance.now() - started;
}

/** One read through a reader; a read that fell back on assumed values would time nothing. */
async function readOnce(reader: NsenterSysctlReader, nsFile: string): Promise<void> {
  const values = await reader.read(nsFile);
  if (values.assumed) throw new Error(`${nsFile}: values assumed (${values.reason})`);
}

/** One `nsenter` child spawned from Node: the whole read, and the time spawn() held the loop. */
function spawnRead(nsFile: string): Promise<{ readMs: number; blockedMs: number }> {
  const files = NAMESPACE_SYSCTL_NAMES.map((name) => sysctlPath('/proc', name));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let blockedMs = 0;
    execFile(
      'nsenter',
      [`--net=${nsFile}`, '--', 'grep', '-sH', '', ...files],
      { timeout: TIMEOUT_MS },
      // grep exits 2 when a file the kernel lacks is missing: the output is still there.
      (error, stdout) => {
        if (!stdout.includes('ip_local_port_range:')) reject(error ?? new Error(stdout));
        else resolve({ readMs: performance.now() - started, blockedMs });
      },
    );
    blockedMs = performance.now() - started;
  });
}

export async function runNsenterPart(context: BenchContext): Promise<void> {
  const missing = missingCapability({ netns: true, commands: ['nsenter', 'grep'] });
  if (missing !== undefined) {
    context.note('nsenter', `skipped: ${missing}`);
    return;
  }
  const lab = new NetnsLab('nsbench');
  const reader = new NsenterSysctlReader({ timeoutMs: TIMEOUT_MS });
  try {
    const nsFiles = Array.from(
      { length: NAMESPACES },
      (_, index) => `/run/netns/${lab.addNamespace(`n${index}`)}`,
    );
    const nsFileAt = (index: number) => nsFiles[index % NAMESPACES] as string;
    context.log(`nsenter: ${NAMESPACES} namespaces`);
    const firstMs: number[] = [];
    for (let index = 0; index < FIRST_READS; index++) {
      const fresh = new NsenterSysctlReader({ timeoutMs: TIMEOUT_MS });
      try {
        firstMs.push(await timed(() => readOnce(fresh, nsFileAt(index))));
      } finally {
        fresh.close();
      }
    }
    await readOnce(reader, nsFileAt(0));
    const keptMs: number[] = [];
    for (let index = 0; index < KEPT_READS; index++) {
      keptMs.push(await timed(() => readOnce(reader, nsFileAt(index))));
    }
    const idleDelay = await loopDelay(() => new Promise((done) => setTimeout(done, 1_000)));
    const cache = new NamespaceSysctlCache({ refreshMs: 60_000, concurrency: CONCURRENCY });
    let roundMs = 0;
    try {
      const roundDelay = await loopDelay(async () => {
        roundMs = await timed(async () => {
          const values = await Promise.all(
            nsFiles.map((nsFile) => cache.fresh(statSync(nsFile).ino, nsFile)),
          );
          const assumed = values.find((one) => one.assumed);
          if (assumed !== undefined) throw new Error(`values assumed (${assumed.reason})`);
        });
      });
      const spawnMs: number[] = [];
      const spawnBlockedMs: number[] = [];
      for (let index = 0; index < SPAWNS; index++) {
        const { readMs, blockedMs } = await spawnRead(nsFileAt(index));
        spawnMs.push(readMs);
        spawnBlockedMs.push(blockedMs);
      }
      context.emit({
        kind: 'nsenter',
        firstMs,
        keptMs,
        namespaces: NAMESPACES,
        concurrency: CONCURRENCY,
        roundMs,
        idleDelay,
        roundDelay,
        spawnMs,
        spawnBlockedMs,
      });
    } finally {
      cache.close();
    }
  } finally {
    reader.close();
    await lab.close();
  }
}
