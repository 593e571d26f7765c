/**
 * The alert delivery path the end-to-end tests rely on, on its own: a real Prometheus
 * scrapes a switch served by this test, evaluates a rule on it, and a real Alertmanager
 * delivers the firing and then the resolved notification to the webhook sink.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { type AlertPipeline, startAlertPipeline } from '../../testkit/prometheus/alert-pipeline.js';
import { alertmanagerCommand } from '../../testkit/prometheus/alertmanager.js';

describe.skipIf(
  !canRun('Prometheus → Alertmanager → webhook pipeline', {
    commands: ['prometheus', alertmanagerCommand()],
  }),
)('alert pipeline helpers', () => {
  let switchValue = 1;
  let switchServer: Server;
  let pipeline: AlertPipeline;

  beforeAll(async () => {
    switchServer = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(`# TYPE pipeline_switch gauge\npipeline_switch ${switchValue}\n`);
    });
    await new Promise<void>((resolve) => switchServer.listen(0, '127.0.0.1', resolve));
    const address = switchServer.address();
    const switchPort = typeof address === 'object' && address !== null ? address.port : 0;
    pipeline = await startAlertPipeline({
      job: 'switch',
      targets: [`127.0.0.1:${switchPort}`],
      rules: stringify({
        groups: [
          {
            name: 'pipeline',
            rules: [
              {
                alert: 'PipelineSwitchOn',
                expr: 'pipeline_switch == 1',
                labels: { severity: 'warning' },
                annotations: { description: 'switch is {{ $value }} on {{ $labels.job }}' },
              },
            ],
          },
        ],
      }),
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await new Promise((resolve) => switchServer?.close(resolve));
  });

  it('delivers a firing alert with its templated annotation, then its resolution', async () => {
    const firing = await pipeline.sink.waitForAlert(
      (alert) => alert.labels.alertname === 'PipelineSwitchOn' && alert.status === 'firing',
      30_000,
    );
    expect(firing.labels).toMatchObject({ job: 'switch', severity: 'warning' });
    expect(firing.annotations.description).toBe('switch is 1 on switch');

    switchValue = 0;
    const resolved = await pipeline.sink.waitForAlert(
      (alert) => alert.labels.alertname === 'PipelineSwitchOn' && alert.status === 'resolved',
      30_000,
    );
    expect(Date.parse(resolved.endsAt)).toBeGreaterThanOrEqual(Date.parse(firing.startsAt));
  });

  it('stop() ends the processes and removes their directories', async () => {
    const { prometheus } = pipeline;
    const dir = prometheus.dir;
    await prometheus.stop();
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(`${prometheus.url}/-/healthy`)).rejects.toThrow();
  });
});
