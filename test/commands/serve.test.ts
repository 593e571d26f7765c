/** The daemon as a process: start line, sampling in a worker, failures, listen errors, stop. */
import { renameSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_DEADLINE_MS } from '../../src/commands/serve.js';
import { TCP_STATES } from '../../src/snapshot/model.js';
import {
  exporterCommand,
  REPO_ROOT,
  type RunningExporter,
  runExporter,
  startExporter,
} from '../../testkit/exporter/exporter-cli.js';
import { MINIMAL_PROCFS, scratchProcfs } from '../../testkit/exporter/exporter-procfs.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { sampleValue } from '../../testkit/prometheus/exposition.js';
import { httpGet, startDaemon, waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function exporter(args: readonly string[]): Promise<RunningExporter> {
  const running = await startExporter(args);
  cleanups.push(() => running.daemon.stop());
  return running;
}

async function scrape(url: string): Promise<string> {
  const response = await httpGet(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.body;
}

/** Waits until the exporter has served at least `count` samples. */
async function waitForSamples(running: RunningExporter, count: number): Promise<string> {
  return waitFor(
    async () => {
      const body = await scrape(running.url);
      const taken = sampleValue(body, 'tcpstate_sample_duration_seconds_count') ?? 0;
      return taken >= count ? body : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, describe: () => running.daemon.output() },
  );
}

describe('tcpstate-exporter daemon', () => {
  it('logs one start line, samples in its worker and serves what the engine reads', async () => {
    const running = await exporter([`--path.procfs=${MINIMAL_PROCFS}`, '--sample.interval=1m30s']);
    const [start, ...others] = running.logLines();
    expect(others).toEqual([]);
    expect(start).toMatchObject({
      level: 'info',
      msg: 'tcpstate-exporter started',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      address: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      config: expect.objectContaining({
        'path.procfs': MINIMAL_PROCFS,
        'sample.interval': '1m30s',
        'collector.ports': 'true',
      }),
    });

    await waitFor(
      async () => ((await httpGet(`${running.url}/-/ready`)).status === 200 ? true : undefined),
      {
        timeoutMs: 20_000,
        describe: () => running.daemon.output(),
      },
    );
    const body = await scrape(running.url);
    const expected = sampleProcfs({ procfsRoot: MINIMAL_PROCFS }).sockets;
    for (const state of TCP_STATES) {
      expect(sampleValue(body, 'tcpstate_sockets', { family: 'ipv4', state })).toBe(
        expected?.states.ipv4[state],
      );
      expect(sampleValue(body, 'tcpstate_sockets', { family: 'ipv6', state })).toBe(
        expected?.states.ipv6[state],
      );
    }
    // Scrapes leave no log lines at the default level.
    expect(running.logLines()).toHaveLength(1);
  });

  it('stops cleanly with status 0 on SIGTERM during a scrape, and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const running = await exporter([
        `--path.procfs=${MINIMAL_PROCFS}`,
        '--sample.interval=100ms',
      ]);
      await waitForSamples(running, 1);
      // The signal goes out as soon as the scrape's response starts; its body must still arrive whole.
      const scraped = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${running.url}/metrics`, (response) => {
          running.daemon.child.kill(signal);
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          response.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      const signalled = Date.now();
      const { status, body } = await scraped;
      expect(status).toBe(200);
      expect(body).toContain('tcpstate_build_info{');
      const exit = await running.exited;
      // Before the shutdown deadline would force the exit, plus half a second for the exit
      // to reach us; 'stopped' below shows the daemon stopped by itself.
      expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_DEADLINE_MS + 500);
      expect(exit).toEqual({ code: 0, signal: null });
      const messages = running.logLines().map((line) => line.msg);
      expect(messages.slice(-2)).toEqual(['stopping', 'stopped']);
      expect(running.logLines().find((line) => line.msg === 'stopping')?.signal).toBe(signal);
    }
    // Two daemons started and stopped in turn; a start alone can take 20 s on a loaded machine.
  }, 60_000);

  it('warns once when a collector starts failing, and says at info when it recovers', async () => {
    const tree = scratchProcfs();
    cleanups.push(tree.remove);
    const netstat = join(tree.root, 'net/netstat');
    const running = await exporter([`--path.procfs=${tree.root}`, '--sample.interval=100ms']);
    const before = await waitForSamples(running, 2);
    expect(sampleValue(before, 'tcpstate_collector_success', { collector: 'netstat' })).toBe(1);

    renameSync(netstat, `${netstat}.away`);
    const failing = await waitFor(
      async () => {
        const body = await scrape(running.url);
        return sampleValue(body, 'tcpstate_collector_success', { collector: 'netstat' }) === 0
          ? body
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, describe: () => running.daemon.output() },
    );
    expect(sampleValue(failing, 'tcpstate_timewait_finished_total')).toBeUndefined();
    const failedAt = sampleValue(failing, 'tcpstate_sample_duration_seconds_count') ?? 0;
    await waitForSamples(running, failedAt + 3);

    renameSync(`${netstat}.away`, netstat);
    const recovered = await waitFor(
      async () => {
        const body = await scrape(running.url);
        return sampleValue(body, 'tcpstate_collector_success', { collector: 'netstat' }) === 1
          ? body
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, describe: () => running.daemon.output() },
    );
    expect(sampleValue(recovered, 'tcpstate_timewait_finished_total')).toBeGreaterThanOrEqual(0);
    const recoveredAt = sampleValue(recovered, 'tcpstate_sample_duration_seconds_count') ?? 0;
    await waitForSamples(running, recoveredAt + 3);

    const transitions = running
      .logLines()
      .filter((line) => String(line.msg).startsWith('collector '));
    expect(transitions).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'collector failing', collector: 'netstat' }),
      expect.objectContaining({ level: 'info', msg: 'collector recovered', collector: 'netstat' }),
    ]);
    expect(String(transitions[0]?.error)).toContain('net/netstat');
  });

  it('logs in logfmt with --log.format logfmt', async () => {
    const running = await startExporterLogfmt();
    expect(running.output()).toMatch(
      /^level=info time=\S+ version=\S+ address=127\.0\.0\.1:\d+ .*msg="tcpstate-exporter started"$/m,
    );
  });

  it('exits 1 with one line when the listen address is in use', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const address = holder.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const run = await runExporter([
      `--web.listen-address=127.0.0.1:${port}`,
      `--path.procfs=${MINIMAL_PROCFS}`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `tcpstate-exporter: cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)\n`,
    );
  });

  it('exits 1 with one line when the procfs root has no net/tcp', async () => {
    const run = await runExporter(['--path.procfs=/nonexistent-procfs']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'tcpstate-exporter: /nonexistent-procfs/net/tcp does not exist: --path.procfs must point at a procfs mount such as /proc or /proc/<pid>',
    ]);
  });
});

/** The start line is not JSON here, so wait for it by text. */
async function startExporterLogfmt() {
  const [file, argv] = exporterCommand([
    '--web.listen-address=127.0.0.1:0',
    `--path.procfs=${MINIMAL_PROCFS}`,
    '--log.format=logfmt',
  ]);
  const daemon = startDaemon(file, argv, { cwd: REPO_ROOT });
  cleanups.push(() => daemon.stop());
  await waitFor(() => (daemon.output().includes('tcpstate-exporter started') ? true : undefined), {
    timeoutMs: 20_000,
    intervalMs: 50,
    describe: () => daemon.output(),
  });
  return daemon;
}

describe.skipIf(!canRun('listening on every address inside a namespace', { netns: true }))(
  'tcpstate-exporter --web.listen-address=:port',
  () => {
    it('listens on IPv6 and IPv4 at once, as [::]', async () => {
      const lab = new NetnsLab('tsv');
      cleanups.push(() => lab.close());
      const ns = lab.addNamespace('listen');
      const running = await startExporter(
        [`--path.procfs=${MINIMAL_PROCFS}`, '--web.listen-address=:0'],
        { netns: ns },
      );
      cleanups.push(() => running.daemon.stop());
      const port = /^http:\/\/\[::\]:(\d+)$/.exec(running.url)?.[1];
      expect(port, running.url).toBeDefined();
      for (const host of ['127.0.0.1', '[::1]']) {
        const response = await httpGet(`http://${host}:${port}/-/healthy`, ns);
        expect(response.status, host).toBe(200);
      }
    });
  },
);
