/**
 * Source NAT exhaustion end to end: the pod → node (masquerade to 5 ports) → remote lab of
 * testkit/kernel/snat-lab.ts. The real exporter runs in the node's namespace with the
 * conntrack and snat collectors, a real Prometheus there evaluates the generated rules (only
 * `for` shortened) and a real Alertmanager delivers the pages. The pod opens connections to
 * one destination until one times out: the headroom page must name the NAT address and that
 * destination with the usable count the rule gives, and the dropping page must follow the
 * SYNs the kernel refused, while the other destination pages nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  buildSnatLab,
  NAT,
  REMOTE,
  REMOTE_PORTS,
  type SnatLab,
} from '../../testkit/kernel/snat-lab.js';
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

const RANGE = 5;
const [TARGET_PORT, QUIET_PORT] = REMOTE_PORTS;

describe.skipIf(
  !canRun('SNAT exhaustion end to end', {
    netns: true,
    commands: ['nft', 'prometheus', alertmanagerCommand()],
  }),
)('source NAT exhaustion pages through Alertmanager', () => {
  let lab: SnatLab;
  let exporter: ExporterTarget;
  let pipeline: AlertPipeline;

  beforeAll(async () => {
    lab = await buildSnatLab(`ip protocol tcp masquerade to :40000-${40000 + RANGE - 1}`);
    exporter = await startExporterTarget({
      procfs: '/proc',
      netns: lab.node,
      args: ['--collector.conntrack', '--collector.snat'],
    });
    pipeline = await startMixinAlertPipeline([exporter.address], lab.node);
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    await exporter?.stop();
    await lab?.close();
  });

  it('pages with the NAT address and the destination that ran dry, and for the refused SYNs', async () => {
    const usable = await pipeline.prometheus.query('tcpstate_snat_ports_usable');
    expect(
      (usable.result as readonly PromSample[]).map((s) => [s.metric.source, s.value?.[1]]),
    ).toEqual([['rule', String(RANGE)]]);
    const started = Date.now();
    const toTarget = await lab.podAgent.exhaust({
      group: 'a',
      host: REMOTE,
      port: TARGET_PORT,
      max: RANGE + 2,
    });
    const toQuiet = await lab.podAgent.exhaust({
      group: 'b',
      host: REMOTE,
      port: QUIET_PORT,
      max: 1,
    });
    expect(toTarget).toEqual({ count: RANGE, error: 'ETIMEDOUT' });
    expect(toQuiet).toEqual({ count: 1, error: 'max' });

    const headroom = await pipeline.sink.waitForAlert(
      (alert) =>
        alert.labels.alertname === 'TcpStateSnatPortHeadroomLow' &&
        alert.labels.severity === 'critical' &&
        alert.status === 'firing',
      60_000,
    );
    expect(headroom.labels).toMatchObject({
      job: defaultConfig.jobName,
      instance: exporter.address,
      nat_address: NAT,
      remote_address: REMOTE,
      remote_port: String(TARGET_PORT),
      protocol: 'tcp',
    });
    expect(headroom.annotations.description).toContain(
      `of the ${RANGE} NAT ports toward ${REMOTE} port ${TARGET_PORT}/tcp (from NAT address ${NAT})`,
    );
    expect(Date.parse(headroom.startsAt)).toBeGreaterThanOrEqual(started - 1000);

    const dropping = await pipeline.sink.waitForAlert(
      (alert) =>
        alert.labels.alertname === 'TcpStateConntrackDropping' && alert.status === 'firing',
      60_000,
    );
    expect(dropping.labels).toMatchObject({ severity: 'critical', instance: exporter.address });

    // One flow of five toward the other destination: 20 %, no page names it.
    const quietPages = pipeline.sink
      .notifications()
      .flatMap((notification) => notification.alerts)
      .filter((alert) => alert.labels.remote_port === String(QUIET_PORT));
    expect(quietPages).toEqual([]);
  }, 150_000);
});
