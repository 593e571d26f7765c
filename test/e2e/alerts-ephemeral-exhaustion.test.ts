/**
 * The ephemeral-port alerts end to end, in two network namespaces joined by a veth pair,
 * each with a 2000-port range, a server and the real exporter; a real Prometheus evaluates
 * the generated rules (only `for` shortened) and a real Alertmanager delivers to a webhook.
 *
 * - "exhaust": a client opens ~80 connections a second to a non-loopback address with
 *   tcp_tw_reuse=0 and closes each first: every TIME_WAIT blocks its port toward the server
 *   for 60 s, the range runs dry and connect() fails. The page must name the destination, and
 *   resolve once the load has stopped and the TIME_WAITs drain.
 * - "loopback": the same load toward 127.0.0.1 with the default tcp_tw_reuse=2: TIME_WAIT
 *   piles up to the whole range, yet connect() reuses it after a second and keeps working.
 *   No page may come from that host.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { loadSaid, startLoad } from '../../testkit/kernel/tcp-load.js';
import {
  type AlertPipeline,
  startMixinAlertPipeline,
} from '../../testkit/prometheus/alert-pipeline.js';
import { alertmanagerCommand } from '../../testkit/prometheus/alertmanager.js';
import {
  type ExporterTarget,
  startExporterTarget,
} from '../../testkit/prometheus/exporter-target.js';
import type { PromSample } from '../../testkit/prometheus/prometheus.js';
import { type Daemon, waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const _repoRoot = resolve(import.meta.dirname, '../..');
const PAGE = 'TcpStateEphemeralPortsExhausted';
/** The alerts about connect() toward a destination running out of ports. */
const EPHEMERAL_ALERTS = new Set([
  'TcpStateEphemeralPortsExhausted',
  'TcpStateEphemeralPortsNearlyExhausted',
  'TcpStateEphemeralPortHeadroomLow',
]);

const PORT_RANGE = { low: 41000, high: 42999 } as const;
const USABLE = PORT_RANGE.high - PORT_RANGE.low + 1;
/** Half the range fills faster: see the pile-up below. */
const LOOPBACK_PORT_RANGE = { low: 41000, high: 41999 } as const;
const LOOPBACK_USABLE = LOOPBACK_PORT_RANGE.high - LOOPBACK_PORT_RANGE.low + 1;
const EXHAUST_SERVER = { address: '198.18.91.1', port: 8080 } as const;
const LOOPBACK_SERVER = { address: '127.0.0.1', port: 9000 } as const;
/** The loopback namespace's exporter, reached over the veth pair. */
const LINK = { exhaust: '198.18.92.1', loopback: '198.18.92.2' } as const;
/** 80 connections/s for 30 s: 2400 attempts against 2000 ports, each blocked for 60 s. */
const LOAD = { seconds: 30, rate: 80 } as const;

describe.skipIf(
  !canRun('ephemeral exhaustion alerts end to end', {
    netns: true,
    commands: ['prometheus', alertmanagerCommand()],
  }),
)('ephemeral port alerts, end to end', () => {
  const lab = new NetnsLab('tsa');
  const ns = { exhaust: '', loopback: '' };
  const servers: Daemon[] = [];
  const exporters: ExporterTarget[] = [];
  let pipeline: AlertPipeline;

  beforeAll(async () => {
    ns.exhaust = lab.addNamespace('exhaust');
    ns.loopback = lab.addNamespace('loopback');
    lab.link(
      { ns: ns.exhaust, device: 'veth0', addresses: [`${LINK.exhaust}/30`] },
      { ns: ns.loopback, device: 'veth0', addresses: [`${LINK.loopback}/30`] },
    );
    lab.setSysctl(
      ns.exhaust,
      'net.ipv4.ip_local_port_range',
      `${PORT_RANGE.low} ${PORT_RANGE.high}`,
    );
    lab.setSysctl(
      ns.loopback,
      'net.ipv4.ip_local_port_range',
      `${LOOPBACK_PORT_RANGE.low} ${LOOPBACK_PORT_RANGE.high}`,
    );
    // A non-loopback address on lo: local traffic that tcp_tw_reuse=2 would not treat as loopback.
    lab.addAddress(ns.exhaust, 'lo', `${EXHAUST_SERVER.address}/32`);
    // Ports stay blocked for the whole TIME_WAIT, as on a host without reuse.
    lab.setSysctl(ns.exhaust, 'net.ipv4.tcp_tw_reuse', '0');
    expect(lab.readSysctl(ns.loopback, 'net.ipv4.tcp_tw_reuse')).toBe('2');

    for (const [name, server] of [
      [ns.exhaust, EXHAUST_SERVER],
      [ns.loopback, LOOPBACK_SERVER],
    ] as const) {
      const daemon = startLoad(name, 'serve', server, '240');
      servers.push(daemon);
      await loadSaid(daemon, 'listening');
    }
    exporters.push(await startExporterTarget({ procfs: '/proc', netns: ns.exhaust }));
    exporters.push(
      await startExporterTarget({ procfs: '/proc', netns: ns.loopback, host: LINK.loopback }),
    );
    pipeline = await startMixinAlertPipeline(
      exporters.map((exporter) => exporter.address),
      ns.exhaust,
    );
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    for (const exporter of exporters) await exporter.stop();
    for (const server of servers) await server.stop();
    await lab.close();
  });

  const loopbackInstance = (): string => exporters[1]?.address ?? '';
  /** The labels of every alert of `instance` firing at any evaluation (every second) since `sinceMs`. */
  const firedSince = async (instance: string, sinceMs: number) => {
    const window = Math.ceil((Date.now() - sinceMs) / 1000) + 5;
    const expr = `max_over_time(ALERTS{instance="${instance}",alertstate="firing"}[${window}s])`;
    const result = (await pipeline.prometheus.query(expr)).result as readonly PromSample[];
    return result.map((sample) => sample.metric);
  };
  const value = async (expr: string, time?: number): Promise<number> => {
    const result = (await pipeline.prometheus.query(expr, time)).result as readonly PromSample[];
    return Number(result[0]?.value?.[1] ?? Number.NaN);
  };

  it('stays quiet while loopback TIME_WAIT fills the range and connect() keeps working', async () => {
    const instance = `instance="${loopbackInstance()}"`;
    const loadStarted = Date.now();
    const churn = startLoad(
      ns.loopback,
      'churn',
      LOOPBACK_SERVER,
      String(LOAD.seconds),
      String(LOAD.rate),
    );
    // The pile-up. connect() tries the ports of the range's low-end parity first and takes
    // over their TIME_WAIT once it is older than the reuse delay, so TIME_WAIT settles near
    // half the range: counted as blocking, that would be the warning level.
    const timeWait = `tcpstate_remote_port_sockets{${instance},port="${LOOPBACK_SERVER.port}",state="time_wait"}`;
    const blocking = `tcpstate_ephemeral_ports_used_max{${instance}}`;
    let piled = 0;
    let blocked = 0;
    await waitFor(
      async () => {
        // Both figures from the same scrape.
        const at = Date.now() / 1000;
        piled = await value(timeWait, at);
        blocked = await value(blocking, at);
        return piled >= 0.4 * LOOPBACK_USABLE ? true : undefined;
      },
      {
        timeoutMs: (LOAD.seconds + 15) * 1000,
        describe: () => `TIME_WAIT did not pile up (${piled}):\n${churn.output()}`,
      },
    );
    // The model counts as blocking only the TIME_WAIT younger than the reuse delay (about
    // a second of the load) and the open connections, not the pile-up.
    expect(2 * blocked).toBeLessThan(piled);
    // connect() still succeeds: 200 more, one after another, each closed first.
    const connects = startLoad(ns.loopback, 'connect', LOOPBACK_SERVER, '200');
    expect(await loadSaid(connects, 'done')).toContain('done 200');

    // Past the load and a little more, nothing about ports for that host, and no page at all.
    await waitFor(() => (churn.child.exitCode !== null ? true : undefined), {
      timeoutMs: (LOAD.seconds + 15) * 1000,
      describe: () => `load did not end:\n${churn.output()}`,
    });
    await new Promise((done) => setTimeout(done, 5_000));
    // Every alert that fired since the load started, not only those still active: a warning
    // that fired and cleared during the load counts.
    const fired = await firedSince(loopbackInstance(), loadStarted);
    expect(
      fired.filter(
        (labels) => EPHEMERAL_ALERTS.has(labels.alertname ?? '') || labels.severity === 'critical',
      ),
    ).toEqual([]);
    const paged = pipeline.sink
      .notifications()
      .flatMap((notification) => notification.alerts)
      .filter(
        (alert) =>
          alert.labels.instance === loopbackInstance() && alert.labels.severity === 'critical',
      );
    expect(paged).toEqual([]);
  }, 180_000);

  it('pages naming the destination when connect() runs out of ports, then resolves', async () => {
    const loadStarted = Date.now();
    const churn = startLoad(
      ns.exhaust,
      'churn',
      EXHAUST_SERVER,
      String(LOAD.seconds),
      String(LOAD.rate),
    );
    const isOurs = (alert: { labels: Readonly<Record<string, string>> }): boolean =>
      alert.labels.alertname === PAGE && alert.labels.remote_port === String(EXHAUST_SERVER.port);

    const firing = await pipeline.sink.waitForAlert(
      (alert) => isOurs(alert) && alert.status === 'firing',
      (LOAD.seconds + 30) * 1000,
    );
    expect(firing.labels).toMatchObject({
      severity: 'critical',
      job: defaultConfig.jobName,
      instance: exporters[0]?.address,
      local_address: EXHAUST_SERVER.address,
      remote_address: EXHAUST_SERVER.address,
      remote_port: String(EXHAUST_SERVER.port),
    });
    expect(firing.annotations.description).toContain(
      `all ${USABLE} usable ephemeral ports toward ${EXHAUST_SERVER.address} port ${EXHAUST_SERVER.port}`,
    );
    expect(Date.parse(firing.startsAt)).toBeGreaterThanOrEqual(loadStarted - 1000);

    await waitFor(() => (churn.child.exitCode !== null ? true : undefined), {
      timeoutMs: (LOAD.seconds + 15) * 1000,
      describe: () => `load did not end:\n${churn.output()}`,
    });
    const loadEnded = Date.now();
    // TIME_WAIT lasts 60 s: the ports come back well within 90 s after the load.
    const resolved = await pipeline.sink.waitForAlert(
      (alert) => isOurs(alert) && alert.status === 'resolved',
      90_000,
    );
    expect(resolved.labels).toEqual(firing.labels);
    // Still firing while the TIME_WAITs held the ports: it resolved because they drained.
    expect(Date.parse(resolved.endsAt)).toBeGreaterThan(loadEnded);
    // The history the quiet test reads sees this page too, so its empty answer means quiet.
    const fired = await firedSince(exporters[0]?.address ?? '', loadStarted);
    expect(fired.map((labels) => labels.alertname)).toContain(PAGE);
  }, 240_000);
});
