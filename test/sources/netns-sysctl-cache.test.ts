/** The namespace sysctl cache with a substitute reader and clock: scheduling, bounds, fallback. */
import { describe, expect, it } from 'vitest';
import {
  assumedNamespaceSysctls,
  type NamespaceReadFailure,
  NamespaceSysctlError,
  type NamespaceSysctls,
} from '../../src/sources/netns-sysctl.js';
import { NamespaceSysctlCache } from '../../src/sources/netns-sysctl-cache.js';

/** Values as a real read returns them, told apart by their port range. */
function readValues(low: number): NamespaceSysctls {
  const defaults = assumedNamespaceSysctls('unused');
  const range = { low, high: low + 99 };
  return {
    ephemeral: { ...defaults.ephemeral, range },
    sysctls: { ...defaults.sysctls, portRange: range },
    assumed: false,
  };
}

interface Pending {
  readonly nsFile: string;
  readonly signal: AbortSignal;
  resolve(values: NamespaceSysctls): void;
  reject(error: Error): void;
}

/** A cache whose reads wait until the test settles them, on a clock the test moves. */
function harness(options: { concurrency?: number; maxNamespaces?: number; problem?: string } = {}) {
  const pending: Pending[] = [];
  const assumedLog: [string, NamespaceReadFailure][] = [];
  let running = 0;
  let maxRunning = 0;
  let now = 0;
  const cache = new NamespaceSysctlCache({
    refreshMs: 60_000,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.maxNamespaces === undefined ? {} : { maxNamespaces: options.maxNamespaces }),
    onAssumed: (reason, failure) => assumedLog.push([reason, failure]),
    entryProblem: () => options.problem,
    nowMs: () => now,
    read: (nsFile, signal) =>
      new Promise<NamespaceSysctls>((resolve, reject) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const done = () => {
          running--;
        };
        pending.push({
          nsFile,
          signal,
          resolve: (values) => {
            done();
            resolve(values);
          },
          reject: (error) => {
            done();
            reject(error);
          },
        });
      }),
  });
  const settle = async () => {
    // Lets the cache see the outcome and start queued reads.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return {
    cache,
    pending,
    assumedLog,
    settle,
    maxRunning: () => maxRunning,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('NamespaceSysctlCache', () => {
  it('answers with assumed defaults until the first read ends, then with the values read', async () => {
    const { cache, pending, settle } = harness();
    const first = cache.get(1, '/proc/10/ns/net');
    expect(first).toMatchObject({ assumed: true, reason: 'not read yet' });
    expect(first.ephemeral.range).toEqual({ low: 32768, high: 60999 });
    expect(pending.map((read) => read.nsFile)).toEqual(['/proc/10/ns/net']);
    // Asked again while the read runs: no second read.
    cache.get(1, '/proc/10/ns/net');
    expect(pending).toHaveLength(1);

    pending[0]?.resolve(readValues(40_000));
    await settle();
    expect(cache.get(1, '/proc/10/ns/net')).toMatchObject({
      assumed: false,
      ephemeral: { range: { low: 40_000, high: 40_099 } },
    });
    expect(cache.stats).toEqual({ reads: 1, failures: 0, namespaces: 1 });
  });

  it('reads a namespace again once its values are older than the refresh interval', async () => {
    const { cache, pending, settle, advance } = harness();
    cache.get(1, '/proc/10/ns/net');
    pending[0]?.resolve(readValues(40_000));
    await settle();
    advance(59_999);
    cache.get(1, '/proc/10/ns/net');
    expect(pending).toHaveLength(1);
    advance(1);
    // Due: the old values are served while the new read runs.
    expect(cache.get(1, '/proc/10/ns/net').ephemeral.range.low).toBe(40_000);
    expect(pending).toHaveLength(2);
    pending[1]?.resolve(readValues(41_000));
    await settle();
    expect(cache.get(1, '/proc/10/ns/net').ephemeral.range.low).toBe(41_000);
  });

  it('refresh() reads every due namespace and resolves when they are read', async () => {
    const { cache, pending, settle, advance } = harness();
    cache.get(1, '/proc/10/ns/net');
    cache.get(2, '/proc/20/ns/net');
    for (const read of pending.splice(0)) read.resolve(readValues(40_000));
    await settle();
    advance(60_000);
    let refreshed = false;
    const refresh = cache.refresh().then(() => {
      refreshed = true;
    });
    await settle();
    expect(pending.map((read) => read.nsFile)).toEqual(['/proc/10/ns/net', '/proc/20/ns/net']);
    pending[0]?.resolve(readValues(41_000));
    await settle();
    expect(refreshed).toBe(false);
    pending[1]?.resolve(readValues(42_000));
    await refresh;
    expect(cache.get(2, '/proc/20/ns/net').ephemeral.range.low).toBe(42_000);
  });

  it('runs at most `concurrency` reads at once and reads every namespace', async () => {
    const { cache, pending, settle, maxRunning } = harness({ concurrency: 2 });
    const all = Promise.all(
      Array.from({ length: 7 }, (_, i) => cache.fresh(i + 1, `/proc/${i + 1}/ns/net`)),
    );
    await settle();
    let answered = 0;
    while (answered < 7) {
      const open = pending.slice(answered);
      expect(open.length).toBeLessThanOrEqual(2);
      for (const read of open) read.resolve(readValues(40_000 + answered++ * 100));
      await settle();
    }
    const values = await all;
    expect(maxRunning()).toBe(2);
    expect(values.every((value) => !value.assumed)).toBe(true);
  });

  it('falls back to assumed defaults when a read fails, says so once per kind, and retries', async () => {
    const { cache, pending, settle, assumedLog, advance } = harness();
    cache.get(1, '/proc/10/ns/net');
    cache.get(2, '/proc/20/ns/net');
    pending[0]?.reject(new NamespaceSysctlError('setns: Operation not permitted', 'denied'));
    pending[1]?.reject(new NamespaceSysctlError('setns: Operation not permitted', 'denied'));
    await settle();
    expect(cache.get(1, '/proc/10/ns/net')).toMatchObject({
      assumed: true,
      reason: 'setns: Operation not permitted',
    });
    expect(assumedLog).toEqual([['setns: Operation not permitted', 'denied']]);
    expect(cache.stats.failures).toBe(2);

    // A denied namespace waits for the refresh interval; a new process file is tried at once.
    advance(30_000);
    cache.get(1, '/proc/10/ns/net');
    expect(pending).toHaveLength(2);
    cache.get(1, '/proc/11/ns/net');
    expect(pending.map((read) => read.nsFile)).toEqual([
      '/proc/10/ns/net',
      '/proc/20/ns/net',
      '/proc/11/ns/net',
    ]);
    pending[2]?.reject(new Error('process left'));
    await settle();
    expect(assumedLog.map(([, failure]) => failure)).toEqual(['denied', 'failed']);
    // Other failures are retried sooner than the refresh interval.
    advance(10_000);
    cache.get(1, '/proc/11/ns/net');
    expect(pending).toHaveLength(4);
    pending[3]?.resolve(readValues(40_000));
    await settle();
    expect(cache.get(1, '/proc/11/ns/net').assumed).toBe(false);
  });

  it('starts no read at all without the capability, and says so once', async () => {
    const { cache, pending, assumedLog } = harness({ problem: 'no CAP_SYS_ADMIN' });
    for (let round = 0; round < 3; round++) {
      expect(await cache.fresh(1, '/proc/10/ns/net')).toMatchObject({
        assumed: true,
        reason: 'no CAP_SYS_ADMIN',
      });
      expect(cache.get(2, '/proc/20/ns/net').assumed).toBe(true);
    }
    expect(pending).toEqual([]);
    expect(assumedLog).toEqual([['no CAP_SYS_ADMIN', 'unavailable']]);
  });

  it('stops reading for good once nsenter turns out to be missing', async () => {
    const { cache, pending, settle, advance } = harness();
    cache.get(1, '/proc/10/ns/net');
    pending[0]?.reject(new NamespaceSysctlError('spawn nsenter ENOENT', 'unavailable'));
    await settle();
    advance(120_000);
    expect(cache.get(2, '/proc/20/ns/net').reason).toBe('spawn nsenter ENOENT');
    await cache.refresh();
    expect(pending).toHaveLength(1);
  });

  it('evicts namespaces that vanished, and the least recently asked for beyond its bound', async () => {
    const { cache, pending, settle } = harness({ maxNamespaces: 3 });
    for (const inode of [1, 2, 3]) cache.get(inode, `/proc/${inode}/ns/net`);
    for (const read of pending) read.resolve(readValues(40_000));
    await settle();
    cache.get(1, '/proc/1/ns/net');
    cache.get(4, '/proc/4/ns/net');
    expect(cache.stats.namespaces).toBe(3);
    // 2 was the least recently asked for: it is read anew.
    cache.get(2, '/proc/2/ns/net');
    expect(pending.at(-1)?.nsFile).toBe('/proc/2/ns/net');
    cache.evictExcept([2]);
    expect(cache.stats.namespaces).toBe(1);
  });

  it('close() aborts the reads in flight and logs nothing for them', async () => {
    const { cache, pending, settle, assumedLog } = harness();
    cache.get(1, '/proc/10/ns/net');
    cache.close();
    expect(pending[0]?.signal.aborted).toBe(true);
    pending[0]?.reject(new Error('aborted'));
    await settle();
    expect(assumedLog).toEqual([]);
  });
});
