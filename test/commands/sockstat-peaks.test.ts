import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent } from '../../testkit/kernel/socket-scenario.js';
import { sampleValue } from '../../testkit/prometheus/exposition.js';
import { httpGet, waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const BURST = 150;
const INUSE = { family: 'ipv4', kind: 'inuse' };

/** The exporter listens inside the namespace: scraped from there. */
async function scrape(exporter: RunningExporter, ns: string): Promise<string> {
  return (await httpGet(`${exporter.url}/metrics`, ns)).body;
}

describe.skipIf(!canRun('sockstat peaks in a namespace', { root: true, netns: true }))(
  'serve: tcpstate_sockstat_sockets_max',
  () => {
    let lab: NetnsLab;
    let ns: string;
    let agent: SocketAgent;
    let exporter: RunningExporter | undefined;

    beforeAll(async () => {
      lab = new NetnsLab('peak');
      ns = lab.addNamespace('burst');
      agent = new SocketAgent(lab, ns);
      await agent.listen({ name: 'server', host: '127.0.0.1', port: 8080, onAccept: 'hold' });
    });

    afterAll(async () => {
      await exporter?.daemon.stop();
      await lab?.close();
    });

    it('shows a burst of sockets opened and reset between two samples', async () => {
      const running = await startExporter(
        [
          '--sample.interval=3s',
          '--collector.sockstat.fast-interval=50ms',
          '--collector.sockstat.peak-window=1m',
        ],
        { netns: ns },
      );
      exporter = running;
      const sampled = (text: string) => sampleValue(text, 'tcpstate_last_sample_timestamp_seconds');
      await waitFor(
        async () => {
          const text = await scrape(running, ns);
          return sampleValue(text, 'tcpstate_sockstat_sockets', INUSE) === undefined
            ? undefined
            : text;
        },
        { timeoutMs: 10_000, intervalMs: 100, describe: () => running.daemon.output() },
      );
      // The namespace's own count, read apart: scrapes come and go, so no fixed baseline.
      const inuse = () =>
        Number(/TCP: inuse (\d+)/.exec(lab.exec(ns, 'cat', ['/proc/net/sockstat']))?.[1]);
      const before = inuse();

      const then = 'hold';
      await agent.connect({ group: 'burst', host: '127.0.0.1', port: 8080, count: BURST, then });
      // Both ends of each connection.
      expect(inuse()).toBeGreaterThanOrEqual(before + 2 * BURST);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await Promise.all([agent.reset('burst'), agent.reset('server')]);
      // The aborted sockets are closed by the agent's next loop turn: all gone within moments.
      await waitFor(() => (inuse() <= before ? true : undefined), {
        timeoutMs: 5_000,
        intervalMs: 20,
        describe: () => `inuse ${inuse()}, before the burst ${before}`,
      });

      // The first sample started after the burst no longer sees it; the peak does.
      const gone = Date.now() / 1000;
      const body = await waitFor(
        async () => {
          const text = await scrape(running, ns);
          return (sampled(text) ?? 0) > gone ? text : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, describe: () => running.daemon.output() },
      );
      const sampledInuse = sampleValue(body, 'tcpstate_sockstat_sockets', INUSE) ?? Number.NaN;
      const peak = sampleValue(body, 'tcpstate_sockstat_sockets_max', INUSE) ?? Number.NaN;
      expect(sampledInuse).toBeLessThan(before + BURST);
      expect(peak).toBeGreaterThanOrEqual(before + 2 * BURST);
    }, 60_000);
  },
);
