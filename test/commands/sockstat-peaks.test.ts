import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent } from '../../testkit/kernel/socket-scenario.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';
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

    it("shows a burst in a namespace of --collector.netns between two rounds in that namespace's max", async () => {
      await exporter?.daemon.stop();
      exporter = undefined;
      // On the host, reading every namespace; one round only (the next is an hour away).
      const running = await startExporter([
        '--sample.interval=1s',
        '--collector.netns',
        '--collector.netns.interval=1h',
        '--collector.netns.max=1000',
        '--collector.sockstat.fast-interval=50ms',
        '--collector.sockstat.peak-window=1m',
      ]);
      exporter = running;
      const inode = String(statSync(`/run/netns/${ns}`).ino);
      const own = { ...INUSE, netns: inode };
      const scrapeHost = async () => (await httpGet(`${running.url}/metrics`)).body;
      const peakOf = (text: string) =>
        samplesOf(text, 'tcpstate_sockstat_sockets_max').find((sample) =>
          Object.entries(own).every(([name, value]) => sample.labels[name] === value),
        )?.value;
      // The round found it, and the fast reader has read it.
      const first = await waitFor(
        async () => {
          const text = await scrapeHost();
          return peakOf(text) === undefined ? undefined : text;
        },
        { timeoutMs: 60_000, intervalMs: 200, describe: () => running.daemon.output() },
      );
      const ofRound = (text: string) =>
        samplesOf(text, 'tcpstate_sockstat_sockets').find((sample) =>
          Object.entries(own).every(([name, value]) => sample.labels[name] === value),
        )?.value;
      const roundInuse = ofRound(first) ?? Number.NaN;
      const inuse = () =>
        Number(/TCP: inuse (\d+)/.exec(lab.exec(ns, 'cat', ['/proc/net/sockstat']))?.[1]);
      const before = inuse();

      await agent.listen({ name: 'server2', host: '127.0.0.1', port: 8081, onAccept: 'hold' });
      const then = 'hold';
      await agent.connect({ group: 'burst2', host: '127.0.0.1', port: 8081, count: BURST, then });
      expect(inuse()).toBeGreaterThanOrEqual(before + 2 * BURST);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await Promise.all([agent.reset('burst2'), agent.reset('server2')]);
      await waitFor(() => (inuse() <= before + 1 ? true : undefined), {
        timeoutMs: 5_000,
        intervalMs: 20,
        describe: () => `inuse ${inuse()}, before the burst ${before}`,
      });

      // A sample after the burst carries the peaks; the round's count is still the one before.
      const body = await waitFor(
        async () => {
          const text = await scrapeHost();
          return (peakOf(text) ?? 0) >= before + 2 * BURST ? text : undefined;
        },
        {
          timeoutMs: 15_000,
          intervalMs: 100,
          describe: () => `peak ${peakOf(first)}; ${running.daemon.output()}`,
        },
      );
      expect(ofRound(body)).toBe(roundInuse);
      expect(roundInuse).toBeLessThan(before + BURST);
      // Labelled as the round labels the namespace, beside the node's own series.
      expect(
        samplesOf(body, 'tcpstate_sockstat_sockets_max').some(
          (s) => s.labels.pod === '' && s.labels.netns !== inode,
        ),
      ).toBe(true);
    }, 120_000);
  },
);
