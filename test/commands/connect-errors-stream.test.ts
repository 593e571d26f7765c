import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { runFailingCalls } from '../../testkit/kernel/failing-calls.js';
import { NOBODY } from '../../testkit/kernel/namespace-process.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const ARGS = ['--collector.connect-errors', '--sample.interval=200ms'];

async function scrape(exporter: RunningExporter): Promise<string> {
  return (await fetch(`${exporter.url}/metrics`)).text();
}

function startedInstance(exporter: RunningExporter): string {
  const line = exporter
    .logLines()
    .find((one) => one.msg === 'counting connect() and bind() failures');
  return String(line?.instance);
}

describe.skipIf(!canRun('the connect-errors stream in the daemon', { root: true, netns: true }))(
  'serve --collector.connect-errors',
  () => {
    let lab: NetnsLab;
    const exporters: RunningExporter[] = [];

    beforeAll(() => {
      lab = new NetnsLab('cerd');
    });

    afterAll(async () => {
      await Promise.all(exporters.map((exporter) => exporter.daemon.stop()));
      await lab?.close();
    });

    it('counts in two exporters at once, each in its own instance, removed on SIGTERM', async () => {
      exporters.push(...(await Promise.all([startExporter(ARGS), startExporter(ARGS)])));
      const instances = exporters.map(startedInstance);
      expect(new Set(instances).size).toBe(2);
      for (const instance of instances) expect(existsSync(instance)).toBe(true);
      const client = await runFailingCalls(lab, lab.addNamespace('pod'), {
        connects: 3,
        binds: 2,
      });
      try {
        const labels = { netns: String(client.nsInode), pod: '', namespace: '', container: '' };
        for (const exporter of exporters) {
          const body = await waitFor(
            async () => {
              const text = await scrape(exporter);
              return text.includes(`netns="${client.nsInode}"`) &&
                samplesOf(text, 'tcpstate_bind_errors_total').length > 0
                ? text
                : undefined;
            },
            { timeoutMs: 30_000, intervalMs: 100, describe: () => exporter.daemon.output() },
          );
          expect(
            sampleValue(body, 'tcpstate_connect_errors_total', {
              errno: 'EADDRNOTAVAIL',
              ...labels,
            }),
          ).toBe(client.outcomes.connect.EADDRNOTAVAIL);
          expect(
            sampleValue(body, 'tcpstate_bind_errors_total', { errno: 'EADDRINUSE', ...labels }),
          ).toBe(client.outcomes.bind.EADDRINUSE);
          expect(
            sampleValue(body, 'tcpstate_collector_success', { collector: 'connect-errors' }),
          ).toBe(1);
        }
      } finally {
        await client.end();
      }
      await Promise.all(exporters.map((exporter) => exporter.daemon.stop()));
      for (const exporter of exporters) expect((await exporter.exited).code).toBe(0);
      for (const instance of instances) expect(existsSync(instance)).toBe(false);
    }, 90_000);

    it('without CAP_SYS_ADMIN fails alone, with one log line, and serves the rest', async () => {
      const exporter = await startExporter(ARGS, { user: NOBODY });
      exporters.push(exporter);
      const body = await waitFor(
        async () => {
          const text = await scrape(exporter);
          return samplesOf(text, 'tcpstate_sockets').length > 0 ? text : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, describe: () => exporter.daemon.output() },
      );
      expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'connect-errors' })).toBe(
        0,
      );
      expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'sockets' })).toBe(1);
      expect(samplesOf(body, 'tcpstate_connect_errors_total')).toEqual([]);
      // Several samples later, still the one line.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const lines = exporter.logLines().filter((line) => line.collector === 'connect-errors');
      expect(lines).toHaveLength(1);
      expect(lines[0]?.level).toBe('error');
      expect(String(lines[0]?.error)).toMatch(/CAP_SYS_ADMIN/);
    }, 90_000);
  },
);
