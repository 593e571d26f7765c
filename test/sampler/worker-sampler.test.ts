import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS } from '../../src/cli/flag-parser.js';
import { COLLECTOR_NAMES, type CollectorName } from '../../src/collectors/registry.js';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { EXPORTER_FLAGS } from '../../src/config/flags.js';
import {
  addSample,
  EXPOSITION_KEYS,
  type ExpositionRequest,
  emptyTotals,
  type RenderedSample,
  SampleExposition,
} from '../../src/metrics/sample-exposition.js';
import { expositionWorkerScript } from '../../src/sampler/exposition-worker.js';
import { SampleScheduler } from '../../src/sampler/scheduler.js';
import { sampleTimeoutMs, WorkerSampler } from '../../src/sampler/worker-sampler.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import {
  MINIMAL_PROCFS,
  type ScratchProcfs,
  scratchProcfs,
} from '../../testkit/exporter/exporter-procfs.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';

const CRASH_ONCE_WORKER = new URL('../../testkit/programs/crash-once-worker.ts', import.meta.url);
const GATED_WORKER = new URL('../../testkit/programs/gated-worker.ts', import.meta.url);

/** Threads of this process beyond the main thread and V8's and libuv's. */
function threadCount(): number {
  return readdirSync('/proc/self/task').length - baseThreads;
}
const baseThreads = readdirSync('/proc/self/task').length;

/** The parts of a snapshot that do not depend on when and how fast it was taken. */
function stableParts(snapshot: Snapshot) {
  const { timestampMs: _t, durationSeconds: _d, sources, ...rest } = snapshot;
  const successes = Object.fromEntries(
    Object.entries(sources).map(([name, status]) => [name, status?.success]),
  );
  return { ...rest, successes };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function workerSampler(procfsRoot: string, script?: URL, timeoutMs = 60_000) {
  const deaths: string[] = [];
  const sampler = new WorkerSampler({
    sample: defaultSampleOptions(procfsRoot),
    onWorkerDeath: (reason) => deaths.push(reason),
    timeoutMs,
    ...(script === undefined ? {} : { script }),
  });
  cleanups.push(async () => {
    await sampler.close();
  });
  return { sampler, deaths };
}

function scratch(): ScratchProcfs {
  const tree = scratchProcfs();
  cleanups.push(() => tree.remove());
  return tree;
}

describe('WorkerSampler', () => {
  it('returns the same snapshot from the worker as the engine in this thread', async () => {
    const { sampler, deaths } = workerSampler(MINIMAL_PROCFS);
    const fromWorker = (await sampler.sample()).snapshot;
    const again = (await sampler.sample()).snapshot;
    const inThread = sampleProcfs({ procfsRoot: MINIMAL_PROCFS });
    expect(stableParts(fromWorker)).toEqual(stableParts(inThread));
    expect(stableParts(again)).toEqual(stableParts(inThread));
    expect(fromWorker.sockets?.states.ipv4.time_wait).toBe(3);
    expect(deaths).toEqual([]);
  });

  it('turns a dying worker into a failed snapshot and starts a new worker', async () => {
    const tree = scratch();
    writeFileSync(join(tree.root, 'crash-next-worker'), '');
    const { sampler, deaths } = workerSampler(tree.root, CRASH_ONCE_WORKER);

    const failed = (await sampler.sample()).snapshot;
    expect(deaths).toHaveLength(1);
    expect(deaths[0]).toMatch(/sampler worker died \(exit code 1: crashing on purpose\)/);
    expect(failed.sockets).toBeUndefined();
    expect(Object.keys(failed.sources).sort()).toEqual([
      'netstat',
      'sockets',
      'sockstat',
      'sysctl',
    ]);
    for (const status of Object.values(failed.sources)) {
      expect(status?.success).toBe(false);
      expect(status?.error).toBe(deaths[0]);
    }

    const recovered = (await sampler.sample()).snapshot;
    expect(recovered.sources.sockets?.success).toBe(true);
    expect(stableParts(recovered)).toEqual(stableParts(sampleProcfs({ procfsRoot: tree.root })));
    expect(deaths).toHaveLength(1);
  });
});

describe('WorkerSampler rendering in the worker', () => {
  it('hands over the bytes this thread would render for the sample, counted from the totals it sent', async () => {
    const exposition = {
      collectors: Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, true])) as Record<
        CollectorName,
        boolean
      >,
      version: '1.2.3',
      sampleIntervalSeconds: 5,
    };
    let totals = emptyTotals();
    const sampler = new WorkerSampler<RenderedSample>({
      sample: defaultSampleOptions(MINIMAL_PROCFS),
      render: { data: exposition, request: (): ExpositionRequest => ({ totals }) },
      script: expositionWorkerScript(),
      onWorkerDeath: () => {},
      timeoutMs: 60_000,
    });
    cleanups.push(async () => {
      await sampler.close();
    });
    const here = new SampleExposition(exposition);
    for (let round = 1; round <= 2; round++) {
      const { snapshot, rendered } = await sampler.sample();
      expect(rendered).toBeDefined();
      if (rendered === undefined) return;
      const expectedTotals = addSample(totals, snapshot);
      expect(rendered.totals).toEqual(expectedTotals);
      expect(rendered.totals.durations.count).toBe(round);
      const expected = await here.render(snapshot, expectedTotals);
      for (const key of EXPOSITION_KEYS) {
        expect(Buffer.from(rendered.exposition[key]).equals(Buffer.from(expected[key])), key).toBe(
          true,
        );
      }
      totals = rendered.totals;
    }
  });
});

/** A FIFO at `<root>/gate`: the gated worker blocks on it until `release`. */
function gate(root: string) {
  const path = join(root, 'gate');
  execFileSync('mkfifo', [path]);
  // Non-blocking, so a test that failed before the worker opened the FIFO cannot hang here.
  const release = async (text = 'go', timeout = 30_000) => {
    await vi.waitFor(
      () => {
        const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
        writeSync(fd, text);
        closeSync(fd);
      },
      { timeout, interval: 10 },
    );
  };
  /** Resolves once a worker is about to block at the gate. */
  const reached = () =>
    vi.waitFor(() => expect(existsSync(`${path}.waiting`)).toBe(true), { timeout: 10_000 });
  return { path, release, reached };
}

describe('WorkerSampler and files that block', () => {
  it('fails the collector of a FIFO in place of net/tcp at once, without blocking', async () => {
    const tree = scratch();
    const tcpPath = join(tree.root, 'net/tcp');
    execFileSync('rm', [tcpPath]);
    execFileSync('mkfifo', [tcpPath]);
    const { sampler, deaths } = workerSampler(tree.root, undefined, 10_000);
    const snapshot = (await sampler.sample()).snapshot;
    expect(snapshot.sources.sockets).toMatchObject({
      success: false,
      error: `cannot read ${tcpPath}: a FIFO, not a regular file`,
    });
    expect(snapshot.sources.sockstat?.success).toBe(true);
    expect(deaths).toEqual([]);
  });

  it('abandons a hung sample as failed, keeps one hung thread at most, and recovers', async () => {
    const tree = scratch();
    // Long enough for a worker to start on a loaded machine; it loads first, so the
    // timeout below is spent on the blocked read, not on start-up.
    const { sampler, deaths } = workerSampler(tree.root, GATED_WORKER, 10_000);
    expect((await sampler.sample()).snapshot.sources.sockets?.success).toBe(true);
    const { path, release } = gate(tree.root);
    cleanups.push(() => release('', 500).catch(() => {}));

    const hung = (await sampler.sample()).snapshot;
    expect(deaths).toEqual(['sample took longer than 10s; its worker was abandoned']);
    expect(hung.sockets).toBeUndefined();
    for (const status of Object.values(hung.sources)) expect(status?.success).toBe(false);

    // While that thread is blocked no other starts: each sample fails at once.
    const threadsBefore = threadCount();
    for (let i = 0; i < 3; i++) {
      const refused = (await sampler.sample()).snapshot;
      expect(refused.sources.sockets).toMatchObject({
        success: false,
        error: 'the previous sample is still blocked in the kernel',
      });
    }
    expect(threadCount()).toBe(threadsBefore);
    expect(deaths).toHaveLength(1);

    // The blocked read returns: the abandoned thread ends and a new worker serves numbers.
    await release();
    execFileSync('rm', [path]);
    await vi.waitFor(
      async () => {
        const recovered = (await sampler.sample()).snapshot;
        expect(recovered.sources.sockets, JSON.stringify(recovered.sources)).toMatchObject({
          success: true,
        });
        expect(recovered.sockets?.states.ipv4.time_wait).toBe(3);
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(deaths).toHaveLength(1);
  }, 60_000);

  it('reports from close() that a thread blocked in the kernel could not be ended', async () => {
    const tree = scratch();
    const { release, reached } = gate(tree.root);
    const { sampler } = workerSampler(tree.root, GATED_WORKER, 60_000);
    cleanups.push(() => release('', 500).catch(() => {}));
    const sample = sampler.sample();
    await reached();
    // From the marker to open() is a few microseconds; leave it ample time.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await sampler.close()).toBe(false);
    expect((await sample).snapshot.sources.sockets?.error).toBe('sampler closed');
  });
});

describe('SampleScheduler', () => {
  it('samples at once, never overlaps, and counts the samples that were due meanwhile', async () => {
    const tree = scratch();
    const { release } = gate(tree.root);
    const { sampler } = workerSampler(tree.root, GATED_WORKER);
    const snapshots: Snapshot[] = [];
    let skipped = 0;
    const scheduler = new SampleScheduler(sampler, 20, {
      onSnapshot: ({ snapshot }) => snapshots.push(snapshot),
      onSkipped: () => skipped++,
    });
    scheduler.start();
    cleanups.push(async () => {
      const stopping = scheduler.stop();
      // Unblocks a worker stuck in open() if the test failed midway; none is there otherwise.
      await release('', 500).catch(() => {});
      await stopping;
    });

    await vi.waitFor(() => expect(skipped).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    expect(snapshots).toHaveLength(0);
    await release();
    await vi.waitFor(() => expect(snapshots).toHaveLength(1), { timeout: 10_000 });
    expect(snapshots[0]?.sockets?.states.ipv4.time_wait).toBe(3);

    // The next sample is blocked again; stop() must end it although it is in flight.
    const skippedBefore = skipped;
    await vi.waitFor(() => expect(skipped).toBeGreaterThan(skippedBefore), { timeout: 10_000 });
    const stopped = scheduler.stop();
    await release();
    await stopped;
    const count = snapshots.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(snapshots).toHaveLength(count);
  });
});

describe('sampleTimeoutMs', () => {
  it('fits in a timer for every interval the flag accepts', () => {
    // A longer delay makes Node fire the timer after 1 ms: every sample would be abandoned.
    expect(sampleTimeoutMs(EXPORTER_FLAGS.sampleInterval.max)).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(sampleTimeoutMs(1)).toBe(30_000);
  });
});
