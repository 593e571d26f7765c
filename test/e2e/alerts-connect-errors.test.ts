/**
 * Counted failures end to end. One network namespace is laid out as a Kubernetes pod (its
 * client in the pod's container cgroup as the kubelet's systemd driver names it, the pod's
 * log directories in a temporary tree); the client fails a few connect() calls with
 * EADDRNOTAVAIL against a 2-port range. The real exporter in a second namespace counts them
 * with --collector.connect-errors; a real Prometheus evaluates the generated rules (only
 * `for` shortened) and a real Alertmanager delivers the page, which must name the pod, its
 * namespace and container and the namespace inode, although the failures lasted far less
 * than a scrape interval and their series appeared already above 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { type FailingClient, runFailingCalls } from '../../testkit/kernel/failing-calls.js';
import {
  cgroupV2Root,
  newContainer,
  newPod,
  OwnerLab,
  systemdPodPath,
} from '../../testkit/kernel/kubelet-owners.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import {
  type AlertPipeline,
  startMixinAlertPipeline,
} from '../../testkit/prometheus/alert-pipeline.js';
import { alertmanagerCommand } from '../../testkit/prometheus/alertmanager.js';
import {
  type ExporterTarget,
  startExporterTarget,
} from '../../testkit/prometheus/exporter-target.js';

const PAGE = 'TcpStateConnectFailing';
const POD = newPod('shop', 'api-5c8d7-q9w2e');
const CONTAINER = newContainer('checkout');

describe.skipIf(
  !canRun('counted connect() failures end to end', {
    root: true,
    netns: true,
    commands: ['prometheus', alertmanagerCommand()],
  }),
)('failed connect() calls in a pod page with its pod, namespace and container', () => {
  const lab = new NetnsLab('tse');
  const owners = new OwnerLab();
  let exporter: ExporterTarget;
  let pipeline: AlertPipeline;
  let client: FailingClient | undefined;

  beforeAll(async () => {
    const monitor = lab.addNamespace('monitor');
    // Owners are resolved when a namespace is first seen: the pod is laid out before.
    owners.writePodLogs(POD, [CONTAINER]);
    exporter = await startExporterTarget({
      procfs: '/proc',
      netns: monitor,
      args: ['--collector.connect-errors', `--path.pod-logs=${owners.podLogsDir}`],
    });
    pipeline = await startMixinAlertPipeline([exporter.address], monitor);
  }, 180_000);

  afterAll(async () => {
    await client?.end();
    await pipeline?.stop();
    await exporter?.stop();
    await lab.close();
    await owners.close();
  });

  it('pages once the failures are counted, naming the pod', async () => {
    const started = Date.now();
    client = await runFailingCalls(lab, lab.addNamespace('pod'), { connects: 3, binds: 0 }, (pid) =>
      owners.place(pid, cgroupV2Root(), systemdPodPath(POD, CONTAINER)),
    );
    expect(client.outcomes.connect.EADDRNOTAVAIL).toBeGreaterThan(0);
    const firing = await pipeline.sink.waitForAlert(
      (alert) =>
        alert.labels.alertname === PAGE &&
        alert.labels.pod === POD.pod &&
        alert.status === 'firing',
      60_000,
    );
    expect(firing.labels).toMatchObject({
      severity: 'critical',
      job: defaultConfig.jobName,
      instance: exporter.address,
      errno: 'EADDRNOTAVAIL',
      netns: String(client.nsInode),
      pod: POD.pod,
      namespace: POD.namespace,
      container: CONTAINER.name,
    });
    expect(firing.annotations.description).toBe(
      `${client.outcomes.connect.EADDRNOTAVAIL} connect() calls of pod ${POD.namespace}/${POD.pod} ` +
        `(container ${CONTAINER.name}) on ${exporter.address} failed with EADDRNOTAVAIL in the last 5m: ` +
        'every usable local port toward a destination was taken. These are failures the kernel ' +
        'returned, counted by --collector.connect-errors, not a prediction.',
    );
    expect(Date.parse(firing.startsAt)).toBeGreaterThanOrEqual(started - 1000);
  }, 120_000);
});
