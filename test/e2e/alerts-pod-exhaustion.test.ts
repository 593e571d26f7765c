/**
 * A pod's ephemeral-port exhaustion end to end. One network namespace is laid out as a
 * Kubernetes pod: its processes sit in a cgroup named as the kubelet's systemd driver names
 * it, and a `/var/log/pods` + `/var/log/containers` tree in a temporary directory names the
 * pod, its namespace and container. It has a 2000-port range, tcp_tw_reuse=0 and a server on
 * a non-loopback address; a client in it opens ~80 connections a second and closes each
 * first, so every TIME_WAIT blocks its port toward the server for 60 s and connect() runs dry.
 *
 * The real exporter runs in a second namespace with `--collector.netns`, finding the pod's
 * namespace through /proc as the DaemonSet does on a node; a real Prometheus there evaluates
 * the generated rules (only `for` shortened) and a real Alertmanager delivers the page: the
 * node's own alert, which covers every namespace. It must carry the pod's namespace inode,
 * the pod, its namespace and container and the destination, while the same alert for the
 * exporter's own namespace stays quiet (it has no load). The same Prometheus then runs every
 * query of the Pods dashboard and the recording rule on the pod's series.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { DASHBOARD_PATHS } from '../../mixin/outputs.js';
import { RECORDED } from '../../mixin/recording.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  cgroupV2Root,
  newContainer,
  newPod,
  OwnerLab,
  systemdPodPath,
} from '../../testkit/kernel/kubelet-owners.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { loadSaid, startLoad } from '../../testkit/kernel/tcp-load.js';
import {
  type AlertPipeline,
  startMixinAlertPipeline,
} from '../../testkit/prometheus/alert-pipeline.js';
import { alertmanagerCommand } from '../../testkit/prometheus/alertmanager.js';
import { checkDashboardQueries } from '../../testkit/prometheus/dashboard-queries.js';
import {
  type ExporterTarget,
  startExporterTarget,
} from '../../testkit/prometheus/exporter-target.js';
import type { PromSample } from '../../testkit/prometheus/prometheus.js';
import { type Daemon, waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const PAGE = 'TcpStateEphemeralPortsExhausted';
const PORT_RANGE = { low: 41000, high: 42999 } as const;
const USABLE = PORT_RANGE.high - PORT_RANGE.low + 1;
const SERVER = { address: '198.18.95.1', port: 8080 } as const;
/** 80 connections/s for 30 s: 2400 attempts against 2000 ports, each blocked for 60 s. */
const LOAD = { seconds: 30, rate: 80 } as const;
const POD = newPod('shop', 'web-7d9f8-x2x5q');
const CONTAINER = newContainer('php-fpm');

describe.skipIf(
  !canRun("a pod's port exhaustion end to end", {
    netns: true,
    commands: ['prometheus', alertmanagerCommand()],
  }),
)("a pod's ephemeral port exhaustion pages with its pod, namespace and container", () => {
  const lab = new NetnsLab('tsp');
  const owners = new OwnerLab();
  const ns = { monitor: '', pod: '' };
  const loads: Daemon[] = [];
  let exporter: ExporterTarget;
  let pipeline: AlertPipeline;

  /** Puts a process of the pod's namespace in the pod's container cgroup, as the kubelet would. */
  const inPod = (daemon: Daemon): Daemon => {
    owners.place(daemon.child.pid as number, cgroupV2Root(), systemdPodPath(POD, CONTAINER));
    loads.push(daemon);
    return daemon;
  };

  beforeAll(async () => {
    ns.monitor = lab.addNamespace('monitor');
    ns.pod = lab.addNamespace('pod');
    lab.setSysctl(ns.pod, 'net.ipv4.ip_local_port_range', `${PORT_RANGE.low} ${PORT_RANGE.high}`);
    // Ports stay blocked for the whole TIME_WAIT, as on a node without reuse.
    lab.setSysctl(ns.pod, 'net.ipv4.tcp_tw_reuse', '0');
    // Not loopback: tcp_tw_reuse=2 would not apply either.
    lab.addAddress(ns.pod, 'lo', `${SERVER.address}/32`);
    const server = inPod(startLoad(ns.pod, 'serve', SERVER, '300'));
    await loadSaid(server, 'listening');
    // Owners are resolved once per namespace: the pod is laid out before the exporter starts.
    owners.writePodLogs(POD, [CONTAINER]);
    exporter = await startExporterTarget({
      procfs: '/proc',
      netns: ns.monitor,
      args: [
        '--collector.netns',
        '--collector.netns.interval=1s',
        // Other tests' namespaces share the machine: room for all of them beside the pod's.
        '--collector.netns.max=500',
        `--path.pod-logs=${owners.podLogsDir}`,
      ],
    });
    pipeline = await startMixinAlertPipeline([exporter.address], ns.monitor);
  }, 180_000);

  afterAll(async () => {
    await pipeline?.stop();
    await exporter?.stop();
    for (const daemon of loads) await daemon.stop();
    await lab.close();
    await owners.close();
  });

  it('exports the pod with its owner before any load', async () => {
    const info = `tcpstate_netns_info{pod="${POD.pod}"}`;
    let seen: readonly PromSample[] = [];
    await waitFor(
      async () => {
        seen = (await pipeline.prometheus.query(info)).result as readonly PromSample[];
        return seen.length > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, describe: () => `no ${info}:\n${exporter.output()}` },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]?.metric).toMatchObject({
      namespace: POD.namespace,
      container: CONTAINER.name,
      container_id: CONTAINER.id,
    });
    const usable = await pipeline.prometheus.query(
      `tcpstate_ephemeral_ports_usable{pod="${POD.pod}"}`,
    );
    // The pod's own range, read by entering its namespace, not the node's: exact from a round
    // that walked the pod; from one that did not, lowered by at most its sockets that are not
    // established, which could be listeners in the range (docs/namespaces.md, "When a
    // namespace's tables are walked"): here the server's one listener.
    const exported = Number((usable.result as readonly PromSample[])[0]?.value?.[1]);
    expect(exported).toBeLessThanOrEqual(USABLE);
    expect(exported).toBeGreaterThanOrEqual(USABLE - 1);
  });

  it('pages naming the pod, its namespace, container and destination; the node stays quiet', async () => {
    const loadStarted = Date.now();
    inPod(startLoad(ns.pod, 'churn', SERVER, String(LOAD.seconds), String(LOAD.rate)));
    const firing = await pipeline.sink.waitForAlert(
      (alert) =>
        alert.labels.alertname === PAGE &&
        alert.labels.pod === POD.pod &&
        alert.status === 'firing',
      (LOAD.seconds + 45) * 1000,
    );
    // The namespace inode, as `lsns` and `ls -Li /run/netns/NAME` show it.
    const inode = (name: string): string => String(statSync(`/run/netns/${name}`).ino);
    expect(firing.labels).toMatchObject({
      severity: 'critical',
      job: defaultConfig.jobName,
      instance: exporter.address,
      netns: inode(ns.pod),
      pod: POD.pod,
      namespace: POD.namespace,
      container: CONTAINER.name,
      local_address: SERVER.address,
      remote_address: SERVER.address,
      remote_port: String(SERVER.port),
    });
    expect(firing.annotations.description).toContain(
      `pod ${POD.namespace}/${POD.pod} (container ${CONTAINER.name}) on ${exporter.address}: ` +
        `all ${USABLE} usable ephemeral ports toward ${SERVER.address} port ${SERVER.port}`,
    );
    expect(Date.parse(firing.startsAt)).toBeGreaterThanOrEqual(loadStarted - 1000);
    // The same alert for the exporter's own namespace, which has no load (other tests'
    // namespaces on the machine may page for themselves).
    const nodePages = pipeline.sink
      .notifications()
      .flatMap((notification) => notification.alerts)
      .filter(
        (alert) => alert.labels.alertname === PAGE && alert.labels.netns === inode(ns.monitor),
      );
    expect(nodePages).toEqual([]);
  }, 180_000);

  it('every query of the Pods dashboard and the recording rule on the pod return data', async () => {
    const recorded = await pipeline.prometheus.query(
      `${RECORDED.ephemeralUsedRatio}{pod="${POD.pod}"}`,
    );
    expect((recorded.result as readonly PromSample[]).length).toBeGreaterThan(0);
    const { queries, problems } = await checkDashboardQueries(
      pipeline.prometheus,
      join(repoRoot, DASHBOARD_PATHS.pods),
      { instances: 1 },
    );
    expect(queries).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  }, 120_000);
});
