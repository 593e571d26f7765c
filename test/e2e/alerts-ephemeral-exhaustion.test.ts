/**
 * The exhaustion alert end to end, in one network namespace: a 2000-port ephemeral range, a
 * server, and a client that opens ~50 short connections a second and closes each first, so
 * every one leaves a TIME_WAIT holding a port toward the server for 60 s. The real exporter
 * samples the namespace, a real Prometheus evaluates the generated rules (only `for`
 * shortened), a real Alertmanager delivers to a webhook sink. The page must name the
 * destination, and resolve once the load has stopped and the TIME_WAITs drain.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RuleGroup } from '../../mixin/alerts.js';
import { defaultConfig } from '../../mixin/config.js';
import { RULES_PATH } from '../../mixin/outputs.js';
import { type AlertPipeline, startAlertPipeline } from '../helpers/alert-pipeline.js';
import { alertmanagerCommand } from '../helpers/alertmanager.js';
import { canRun } from '../helpers/capabilities.js';
import { NetnsLab } from '../helpers/netns.js';
import { type Daemon, startDaemon, waitFor } from '../helpers/prometheus-daemon.js';
import { type ExporterTarget, startExporterTarget } from '../helpers/prometheus-exporter-target.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const LOAD_SCRIPT = join(repoRoot, 'test/helpers/doctor-load.ts');
const ALERT = 'TcpStateEphemeralPortsExhaustionPredicted';

const PORT_RANGE = { low: 41000, high: 42999 } as const;
const SERVER = { address: '198.18.91.1', port: 8080 } as const;
/** 50 connections/s for 30 s: ~1500 of 2000 ports, past the 50 % floor, short of exhaustion. */
const LOAD = { seconds: 30, rate: 50 } as const;

/** The committed rules with every `for` cut to 1 s, so a 1 s evaluation reacts at once. */
function rulesWithShortFor(): string {
  const file = parse(readFileSync(join(repoRoot, RULES_PATH), 'utf8')) as { groups: RuleGroup[] };
  return stringify({
    groups: file.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) => ({
        ...rule,
        ...('for' in rule && rule.for !== undefined ? { for: '1s' } : {}),
      })),
    })),
  });
}

describe.skipIf(
  !canRun('ephemeral exhaustion alert end to end', {
    netns: true,
    commands: ['prometheus', alertmanagerCommand()],
  }),
)('ephemeral port exhaustion alert, end to end', () => {
  const lab = new NetnsLab('tsa');
  let ns: string;
  let server: Daemon;
  let exporter: ExporterTarget;
  let pipeline: AlertPipeline;

  beforeAll(async () => {
    ns = lab.addNamespace('alerts');
    // A non-loopback address on lo: local traffic that tcp_tw_reuse=2 would not treat as loopback.
    lab.addAddress(ns, 'lo', `${SERVER.address}/32`);
    lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', `${PORT_RANGE.low} ${PORT_RANGE.high}`);
    // Ports must stay held for the whole TIME_WAIT, as on a host without reuse.
    lab.setSysctl(ns, 'net.ipv4.tcp_tw_reuse', '0');

    server = startDaemon(
      process.execPath,
      ['--import', 'tsx', LOAD_SCRIPT, 'serve', SERVER.address, String(SERVER.port), '170'],
      { netns: ns, cwd: repoRoot },
    );
    await waitFor(() => (server.output().includes('listening') ? true : undefined), {
      timeoutMs: 15_000,
      describe: () => `server did not start:\n${server.output()}`,
    });
    exporter = await startExporterTarget({ procfs: '/proc', netns: ns });
    pipeline = await startAlertPipeline({
      job: defaultConfig.jobName,
      target: exporter.address,
      rules: rulesWithShortFor(),
      netns: ns,
    });
    await pipeline.prometheus.waitForTargetsUp({ scrapes: 2 });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await exporter?.stop();
    await server?.stop();
    await lab.close();
  });

  it('pages naming the destination, then resolves after the load stops', async () => {
    const loadStarted = Date.now();
    const load = startDaemon(
      process.execPath,
      [
        '--import',
        'tsx',
        LOAD_SCRIPT,
        'churn',
        SERVER.address,
        String(SERVER.port),
        String(LOAD.seconds),
        String(LOAD.rate),
      ],
      { netns: ns, cwd: repoRoot },
    );
    const isOurs = (alert: { labels: Readonly<Record<string, string>> }): boolean =>
      alert.labels.alertname === ALERT && alert.labels.remote_port === String(SERVER.port);

    const firing = await pipeline.sink.waitForAlert(
      (alert) => isOurs(alert) && alert.status === 'firing',
      (LOAD.seconds + 20) * 1000,
    );
    expect(firing.labels).toMatchObject({
      severity: 'critical',
      job: defaultConfig.jobName,
      local_address: SERVER.address,
      remote_address: SERVER.address,
      remote_port: String(SERVER.port),
    });
    const usable = PORT_RANGE.high - PORT_RANGE.low + 1;
    expect(firing.annotations.description).toContain(
      `of the ${usable} usable ephemeral ports toward ${SERVER.address} port ${SERVER.port}`,
    );
    expect(Date.parse(firing.startsAt)).toBeGreaterThanOrEqual(loadStarted - 1000);

    await waitFor(() => (load.child.exitCode !== null ? true : undefined), {
      timeoutMs: (LOAD.seconds + 10) * 1000,
      describe: () => `load did not end:\n${load.output()}`,
    });
    const loadEnded = Date.now();
    // TIME_WAIT lasts 60 s: the use falls below the floor well within 90 s after the load.
    const resolved = await pipeline.sink.waitForAlert(
      (alert) => isOurs(alert) && alert.status === 'resolved',
      90_000,
    );
    expect(resolved.labels).toEqual(firing.labels);
    // Still firing while the TIME_WAITs held the ports: it resolved because they drained.
    expect(Date.parse(resolved.endsAt)).toBeGreaterThan(loadEnded);
  }, 180_000);
});
