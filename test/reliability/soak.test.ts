/**
 * A short soak at a fast interval: fds and threads stay flat and RSS bounded while a file
 * flaps and while the process whose namespace is read vanishes. `npm run soak` runs the
 * same for minutes (figures in docs/benchmarks.md).
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flapFile, soak } from '../../bench/daemon/soak.js';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { scratchProcfs } from '../../testkit/exporter/exporter-procfs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(procfs: string): Promise<RunningExporter> {
  const running = await startExporter([`--path.procfs=${procfs}`, '--sample.interval=50ms']);
  cleanups.push(() => running.daemon.stop(2_000));
  await vi.waitFor(async () => expect((await fetch(`${running.url}/-/ready`)).status).toBe(200), {
    timeout: 20_000,
    interval: 100,
  });
  return running;
}

/**
 * Threads a second may read above the warm one without a leak: V8's and libuv's helpers
 * start on demand, and a replaced worker's thread can outlive its successor's start for a
 * moment. A leak of one thread per sample (20 a second here) passes this within a second.
 */
const THREAD_MARGIN = 4;

describe('short soak', () => {
  it('keeps fds and threads flat and RSS bounded over 20 s of 50 ms samples and a flapping file', async () => {
    const tree = scratchProcfs();
    cleanups.push(() => tree.remove());
    const running = await start(tree.root);
    const result = await soak({
      pid: running.daemon.child.pid as number,
      url: running.url,
      seconds: 20,
      perturb: flapFile(tree.root),
    });
    // From the third second: start-up (JIT, libuv's pool) is over.
    const [warm, ...rest] = result.figures.slice(3);
    if (warm === undefined) throw new Error('no figures');
    expect(rest.length).toBeGreaterThan(10);
    for (const figure of rest) {
      expect(figure.threads, `second ${figure.second}`).toBeLessThanOrEqual(
        warm.threads + THREAD_MARGIN,
      );
      expect(figure.fds, `second ${figure.second}`).toBeLessThanOrEqual(warm.fds + 2);
      expect(figure.rssMiB, `second ${figure.second}`).toBeLessThan(warm.rssMiB + 32);
    }
    expect(result.failedScrapes).toBe(0);
    expect(result.samples).toBeGreaterThan(100);
    const flaps = running.logLines().filter((line) => line.collector === 'netstat');
    expect(flaps.length).toBeGreaterThan(4);
  }, 60_000);

  it('survives the process whose namespace it reads vanishing: collectors fail, fds stay flat', async () => {
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(() => {
      sleeper.kill('SIGKILL');
    });
    const running = await start(`/proc/${sleeper.pid}`);
    const pid = running.daemon.child.pid as number;
    const before = await soak({ pid, url: running.url, seconds: 3 });
    sleeper.kill('SIGKILL');
    await vi.waitFor(
      async () => {
        const text = await (await fetch(`${running.url}/metrics`)).text();
        expect(text).toContain('tcpstate_collector_success{collector="sockets"} 0');
      },
      { timeout: 10_000, interval: 100 },
    );
    const after = await soak({ pid, url: running.url, seconds: 5 });
    const last = after.figures.at(-1);
    const warm = before.figures.at(-1);
    expect(last?.fds).toBeLessThanOrEqual((warm?.fds ?? 0) + 2);
    expect(last?.threads).toBeLessThanOrEqual((warm?.threads ?? 0) + THREAD_MARGIN);
    expect((await fetch(`${running.url}/-/ready`)).status).toBe(503);
    expect((await fetch(`${running.url}/-/healthy`)).status).toBe(200);
  }, 60_000);
});
