/**
 * The inhibit rules shipped in deploy/compose/alertmanager.yml, in a real Alertmanager: a
 * critical mutes the warning of the same alert about the same thing, an exhaustion page
 * mutes the near-exhaustion one for its destination and the headroom warning of its network
 * namespace (the host's or a pod's, never the other's), and nothing else is muted. The runbook
 * documents the same rules, and their `equal` lists name every label an alert carries.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { ALERT_CASES } from '../../testkit/mixin/alert-cases.js';
import {
  alertmanagerCommand,
  type RunningAlertmanager,
  startAlertmanager,
  startWebhookSink,
  type WebhookSink,
} from '../../testkit/prometheus/alertmanager.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const repoRoot = resolve(import.meta.dirname, '../..');

interface InhibitRule {
  readonly source_matchers: readonly string[];
  readonly target_matchers: readonly string[];
  readonly equal: readonly string[];
}

const shipped = (
  parse(readFileSync(join(repoRoot, 'deploy/compose/alertmanager.yml'), 'utf8')) as {
    inhibit_rules: InhibitRule[];
  }
).inhibit_rules;

type Labels = Readonly<Record<string, string>>;

const host = (instance: string): Labels => ({ job: 'tcpstate', instance });
const destination = {
  local_address: '10.0.0.5',
  remote_address: '10.0.0.9',
  remote_port: '9000',
} as const;
const pod = {
  netns: '4026532301',
  pod: 'web-7d9f8-x2x5q',
  namespace: 'shop',
  container: 'php-fpm',
} as const;

/** One alert as sent, and whether the shipped rules must mute it. */
function sent(
  alertname: string,
  severity: string,
  labels: Labels,
  muted: boolean,
): { readonly labels: Labels; readonly muted: boolean } {
  return { labels: { alertname, severity, ...labels }, muted };
}

const POD = { ...host('web-3'), ...pod };
const PORTS_OF_POD = { ...POD, ...destination };
/** The node's own namespace on the same host as the pod, toward the same destination. */
const NODE = { ...host('web-3'), netns: '4026531840' };
const PORTS_OF_HOST = { ...host('web-4'), netns: '4026531840', ...destination };

const SENT = [
  sent('TcpStateOrphansNearLimit', 'critical', host('web-1'), false),
  sent('TcpStateOrphansNearLimit', 'warning', host('web-1'), true),
  // Another host's warning is its own.
  sent('TcpStateOrphansNearLimit', 'warning', host('web-2'), false),
  // Another alert's warning on the muting host is news.
  sent('TcpStateMemoryAborts', 'warning', host('web-1'), false),
  // A pod's exhaustion mutes its own near-exhaustion and headroom warning...
  sent('TcpStateEphemeralPortsExhausted', 'critical', PORTS_OF_POD, false),
  sent('TcpStateEphemeralPortsNearlyExhausted', 'critical', PORTS_OF_POD, true),
  sent('TcpStateEphemeralPortHeadroomLow', 'warning', POD, true),
  // ...never the node's on the same host toward the same destination (whose own page mutes
  // the node's headroom warning), nor another pod's warning.
  sent('TcpStateEphemeralPortsNearlyExhausted', 'critical', { ...NODE, ...destination }, false),
  sent('TcpStateEphemeralPortHeadroomLow', 'warning', NODE, true),
  sent(
    'TcpStateEphemeralPortHeadroomLow',
    'warning',
    { ...POD, netns: '4026532305', pod: 'api-5c6d7-q8w9e', container: 'api' },
    false,
  ),
  // The same pod toward another destination.
  sent(
    'TcpStateEphemeralPortsNearlyExhausted',
    'critical',
    { ...PORTS_OF_POD, remote_port: '5432' },
    false,
  ),
  sent('TcpStateEphemeralPortsExhausted', 'critical', PORTS_OF_HOST, false),
  sent('TcpStateEphemeralPortsNearlyExhausted', 'critical', PORTS_OF_HOST, true),
  sent(
    'TcpStateEphemeralPortsNearlyExhausted',
    'critical',
    { ...PORTS_OF_HOST, remote_address: '10.0.0.10' },
    false,
  ),
];

describe('shipped inhibit rules', () => {
  it('are the ones docs/runbooks.md documents', () => {
    const runbooks = readFileSync(join(repoRoot, 'docs/runbooks.md'), 'utf8');
    const snippet = /```yaml\n(inhibit_rules:\n[\s\S]*?)```/.exec(runbooks)?.[1] ?? '';
    expect((parse(snippet) as { inhibit_rules: unknown }).inhibit_rules).toEqual(shipped);
  });

  it('compare every label an alert names what it is about with', () => {
    const bySeverity = shipped.find((rule) => rule.source_matchers.includes('severity="critical"'));
    const carried = new Set(
      ALERT_CASES.flatMap((alertCase) =>
        alertCase.expected.flatMap((alert) => Object.keys(alert.labels)),
      ),
    );
    carried.delete('severity');
    for (const label of carried) expect(bySeverity?.equal, label).toContain(label);
  });
});

describe.skipIf(
  !canRun('inhibit rules in a real Alertmanager', { commands: [alertmanagerCommand()] }),
)('shipped inhibit rules in Alertmanager', () => {
  let sink: WebhookSink;
  let alertmanager: RunningAlertmanager;

  beforeAll(async () => {
    sink = await startWebhookSink();
    alertmanager = await startAlertmanager({ webhookUrl: sink.url, inhibitRules: shipped });
    const startsAt = new Date().toISOString();
    const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SENT.map(({ labels }) => ({ labels, startsAt }))),
    });
    expect(response.status, await response.text()).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await alertmanager?.stop();
    await sink?.stop();
  });

  const key = (labels: Labels): string =>
    JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

  it('mutes a warning under its critical, a near-exhaustion under its exhaustion and a namespace’s headroom under its pages, only those', async () => {
    const delivered = await waitFor(
      () => {
        const keys = new Set(
          sink
            .notifications()
            .flatMap((notification) => notification.alerts)
            .map((alert) => key(alert.labels)),
        );
        return SENT.filter((sent) => !sent.muted).every((sent) => keys.has(key(sent.labels)))
          ? keys
          : undefined;
      },
      { timeoutMs: 30_000, describe: () => JSON.stringify(sink.notifications(), null, 1) },
    );
    const states = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as {
      labels: Labels;
      status: { state: string; inhibitedBy: string[] };
    }[];
    for (const sent of SENT) {
      const state = states.find((alert) => key(alert.labels) === key(sent.labels))?.status;
      expect(state?.state, key(sent.labels)).toBe(sent.muted ? 'suppressed' : 'active');
      // A pod's headroom warning is muted by each of its pages.
      expect((state?.inhibitedBy.length ?? 0) > 0, key(sent.labels)).toBe(sent.muted);
      expect(delivered.has(key(sent.labels)), key(sent.labels)).toBe(!sent.muted);
    }
  }, 60_000);
});
