/**
 * Fault injection against the running daemon: files that block or never end in place of
 * procfs files, and a sampler thread blocked in the kernel; the daemon keeps serving, fails
 * only the collectors concerned, and SIGTERM/SIGINT still end it with status 0 by itself,
 * before its shutdown deadline forces the exit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SHUTDOWN_DEADLINE_MS } from '../../src/commands/serve.js';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { scratchProcfs } from '../../testkit/exporter/exporter-procfs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratch(): string {
  const tree = scratchProcfs();
  cleanups.push(() => tree.remove());
  return tree.root;
}

async function start(args: string[], entry?: string): Promise<RunningExporter> {
  const running = await startExporter(args, entry === undefined ? {} : { entry });
  cleanups.push(() => running.daemon.stop(1_000));
  return running;
}

async function metricsText(running: RunningExporter): Promise<string> {
  return (await fetch(`${running.url}/metrics`)).text();
}

/** What the daemon logs when its shutdown deadline, not its own stop, ends it. */
const DEADLINE_HIT = 'stopping took too long; exiting anyway';
/** The deadline, plus half a second for the process to end and its exit to reach us. */
const EXIT_LIMIT_SECONDS = SHUTDOWN_DEADLINE_MS / 1000 + 0.5;

/**
 * Sends the signal and measures how long the process takes to exit, and with what. A stop
 * that needed the deadline fails: then the exit time only says the deadline works.
 */
async function stopWith(running: RunningExporter, signal: NodeJS.Signals) {
  const started = performance.now();
  running.daemon.child.kill(signal);
  const exit = await running.exited;
  const seconds = (performance.now() - started) / 1000;
  expect(running.logLines().map((line) => line.msg)).not.toContain(DEADLINE_HIT);
  expect(seconds).toBeLessThan(EXIT_LIMIT_SECONDS);
  return exit;
}

/** Each test's steps are bounded: a start (20 s), a wait for the collectors (20 s), a stop. */
const TEST_TIMEOUT_MS = 60_000;

describe('daemon against files that block or never end', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'fails the collectors of a FIFO and /dev/zero, keeps serving, and exits 0 on %s',
    async (signal) => {
      const root = scratch();
      rmSync(join(root, 'net/tcp'));
      execFileSync('mkfifo', [join(root, 'net/tcp')]);
      rmSync(join(root, 'net/sockstat'));
      symlinkSync('/dev/zero', join(root, 'net/sockstat'));
      const running = await start([`--path.procfs=${root}`, '--sample.interval=100ms']);
      await vi.waitFor(
        async () => {
          const text = await metricsText(running);
          expect(text).toContain('tcpstate_collector_success{collector="sockets"} 0');
          expect(text).toContain('tcpstate_collector_success{collector="sockstat"} 0');
          expect(text).toContain('tcpstate_collector_success{collector="netstat"} 1');
        },
        { timeout: 20_000, interval: 100 },
      );
      const failing = running.logLines().filter((line) => line.msg === 'collector failing');
      expect(failing.map((line) => line.error)).toEqual(
        expect.arrayContaining([
          `cannot read ${join(root, 'net/tcp')}: a FIFO, not a regular file`,
          `cannot read ${join(root, 'net/sockstat')}: a character device, not a regular file`,
        ]),
      );
      const exit = await stopWith(running, signal);
      expect(exit).toMatchObject({ code: 0, signal: null });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 0 by itself on SIGTERM while its sampler thread is blocked in the kernel',
    async () => {
      const root = scratch();
      execFileSync('mkfifo', [join(root, 'gate')]);
      const running = await start(
        [`--path.procfs=${root}`, '--sample.interval=100ms'],
        'testkit/programs/gated-daemon.ts',
      );
      await vi.waitFor(() => expect(existsSync(join(root, 'gate.waiting'))).toBe(true), {
        timeout: 20_000,
      });
      // The thread is in open() of the FIFO; process.exit() would wait for it forever.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await fetch(`${running.url}/-/healthy`)).status).toBe(200);
      const exit = await stopWith(running, 'SIGTERM');
      expect(exit, running.daemon.output()).toMatchObject({ code: 0, signal: null });
      expect(running.logLines().map((line) => line.msg)).toContain(
        'stopped; a sampler thread is still blocked in the kernel: exiting without it',
      );
    },
    TEST_TIMEOUT_MS,
  );
});
