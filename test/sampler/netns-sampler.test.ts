/** The netns round in its worker thread: plain data back, the main thread never reads /proc. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { netnsWorker } from '../../src/sampler/netns-sampler.js';
import { writeNodeProcfs } from '../../testkit/kernel/node-procfs.js';

const CRASH_ONCE_WORKER = new URL('../../testkit/programs/crash-once-worker.ts', import.meta.url);

describe('netnsWorker', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function start(script?: URL) {
    const root = mkdtempSync(join(tmpdir(), 'netns-worker-'));
    writeNodeProcfs(
      root,
      [
        { pid: 1, comm: 'init', netns: 'node' },
        { pid: 7, comm: 'nginx', netns: 'pod', nsInode: 4026532999 },
      ],
      {
        pod: {
          sockets: [
            { state: 'time_wait', local: '10.0.0.1:40000', remote: '10.0.0.2:80', count: 4 },
          ],
        },
      },
    );
    const deaths: string[] = [];
    const worker = netnsWorker({
      data: {
        procfsRoot: root,
        podLogsDir: root,
        max: 10,
        topDestinations: 3,
        walkMaxAgeMs: 60_000,
        walkUseRatio: 0.25,
        sysctlRefreshMs: 60_000,
      },
      timeoutMs: 60_000,
      onWorkerDeath: (reason) => deaths.push(reason),
      ...(script === undefined ? {} : { script }),
    });
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    cleanups.push(() => worker.close());
    return { worker, deaths, root };
  }

  it('answers each request with a fresh round over the namespaces', async () => {
    const { worker } = start();
    const first = await worker.sample();
    expect(first.error).toBeUndefined();
    expect(first.namespaces.map((ns) => [ns.inode, ns.process, ns.states.ipv4.time_wait])).toEqual([
      [4026532999, 'nginx', 4],
    ]);
    const second = await worker.sample();
    expect(second.timestampMs).toBeGreaterThanOrEqual(first.timestampMs);
  }, 60_000);

  it('turns a dead worker into a failed round with no namespaces', async () => {
    const { worker, deaths, root } = start(CRASH_ONCE_WORKER);
    writeFileSync(join(root, 'crash-next-worker'), '');
    const failed = await worker.sample();
    expect(failed.error).toMatch(/died .*crashing on purpose/);
    expect(failed.namespaces).toEqual([]);
    expect(deaths).toHaveLength(1);
    // A new worker takes the next request: the crash cost one round, not the collector.
    const next = await worker.sample();
    expect(next.error).toBeUndefined();
    expect(next.namespaces.map((ns) => [ns.inode, ns.states.ipv4.time_wait])).toEqual([
      [4026532999, 4],
    ]);
    expect(deaths).toHaveLength(1);
  }, 60_000);
});
