import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { isAlertingRule } from '../../mixin/alerts.js';
import { defaultConfig } from '../../mixin/config.js';
import {
  ALERTS_PATH,
  DASHBOARD_PATHS,
  EXAMPLE_PROMETHEUS_PATH,
  RECORDING_RULES_PATH,
} from '../../mixin/outputs.js';
import { RECORDED } from '../../mixin/recording.js';
import * as thresholds from '../../src/doctor/thresholds.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { ALERT_CASES, CASE_KINDS } from '../../testkit/mixin/alert-cases.js';
import {
  CONTRACT_METRICS,
  metricNames,
  PER_NAMESPACE_FAMILY,
  recordedNames,
} from '../../testkit/mixin/metric-contract.js';
import { promtoolTestFile, readAlertingRules } from '../../testkit/mixin/promtool-cases.js';
import { MIXIN_RULE_FILES, readRuleGroups } from '../../testkit/mixin/rule-files.js';

const repoRoot = resolve(import.meta.dirname, '../..');
/** Alerts on failures counted as they happened (mixin/connect-errors-alerts.ts). */
const COUNTED_FAILURE_ALERTS = new Set(['TcpStateConnectFailing']);
const rules = readAlertingRules();
const recordingRules = readRuleGroups().flatMap((group) =>
  group.rules.flatMap((rule) => (isAlertingRule(rule) ? [] : [rule])),
);

function promtool(args: readonly string[]): { status: number; output: string } {
  try {
    const output = execFileSync('promtool', args, { encoding: 'utf8', stdio: 'pipe' });
    return { status: 0, output };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { status: failed.status ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('generated alerting rules', () => {
  it('are CamelCase TcpState* with a severity, summary, description and runbook link', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^TcpState(?:[A-Z][a-z]+)+$/);
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      expect(rule.annotations.description.length).toBeGreaterThan(60);
      for (const metric of metricNames(`${rule.expr} ${rule.annotations.description}`)) {
        expect(CONTRACT_METRICS.has(metric), `${rule.alert}: ${metric}`).toBe(true);
      }
      expect(rule.annotations.runbook_url).toMatch(/\/docs\/runbooks\.md#tcpstate[a-z]+$/);
    }
    // One alert may have a warning and a critical rule, with the same summary and runbook.
    const keys = rules.map((rule) => `${rule.alert}/${rule.labels.severity}`);
    expect(new Set(keys).size).toBe(rules.length);
    for (const rule of rules) {
      const twin = rules.find((other) => other.alert === rule.alert && other !== rule);
      if (twin !== undefined) expect(twin.annotations).toEqual(rule.annotations);
    }
  });

  it('record what alerts and panels repeat, on contract metrics, keeping instance', () => {
    const dashboards = Object.values(DASHBOARD_PATHS)
      .map((path) => readFileSync(join(repoRoot, path), 'utf8'))
      .join('\n');
    const readers = [
      ...rules.map((rule) => rule.expr),
      ...recordingRules.map((rule) => rule.expr),
      dashboards,
    ].join('\n');
    expect(recordingRules.map((rule) => rule.record).sort()).toEqual(
      Object.values(RECORDED).sort(),
    );
    for (const rule of recordingRules) {
      for (const metric of metricNames(rule.expr)) {
        expect(CONTRACT_METRICS.has(metric), `${rule.record}: ${metric}`).toBe(true);
      }
      // Never an aggregation that drops the instance.
      expect(rule.expr, rule.record).not.toMatch(
        /\b(sum|min|max|avg|count)\s*(by\s*\([^)]*\))?\s*\(/,
      );
      const uses = readers.split(rule.record).length - 1;
      expect(uses, `${rule.record} is read at least twice`).toBeGreaterThanOrEqual(2);
    }
    for (const name of recordedNames(readers)) {
      expect(Object.values(RECORDED) as string[], name).toContain(name);
    }
  });

  it('use the thresholds doctor uses (src/doctor/thresholds.ts)', () => {
    const exprOf = (alert: string, severity: string): string =>
      rules.find((rule) => rule.alert === alert && rule.labels.severity === severity)?.expr ?? '';
    const uses = (alert: string, severity: string, value: number): void => {
      expect(exprOf(alert, severity), `${alert} ${severity}`).toMatch(
        new RegExp(`[<>]=? ${String(value).replace('.', '\\.')}\\b`),
      );
    };
    uses(
      'TcpStateEphemeralPortsNearlyExhausted',
      'critical',
      thresholds.EPHEMERAL_USE_CRITICAL_RATIO,
    );
    uses('TcpStateEphemeralPortHeadroomLow', 'warning', 1 - thresholds.EPHEMERAL_USE_WARNING_RATIO);
    uses('TcpStateEphemeralPortsHeldHigh', 'warning', thresholds.BIND_FIRST_HELD_WARNING_RATIO);
    uses('TcpStateTimeWaitNearBucketLimit', 'warning', thresholds.TIME_WAIT_BUCKETS_WARNING_RATIO);
    uses('TcpStatePawsRejectsRising', 'warning', thresholds.PAWS_WARNING_PER_SECOND);
    uses('TcpStateOrphansNearLimit', 'warning', thresholds.ORPHANS_WARNING_RATIO);
    uses('TcpStateOrphansNearLimit', 'critical', thresholds.ORPHANS_CRITICAL_RATIO);
    uses('TcpStateSynCookiesSent', 'warning', thresholds.SYN_COOKIES_WARNING_PER_SECOND);
    uses('TcpStateSnatPortHeadroomLow', 'warning', thresholds.SNAT_USE_WARNING_RATIO);
    uses('TcpStateSnatPortHeadroomLow', 'critical', thresholds.SNAT_USE_CRITICAL_RATIO);
    uses('TcpStateConntrackTableNearlyFull', 'warning', thresholds.CONNTRACK_ENTRIES_WARNING_RATIO);
    expect(defaultConfig.ephemeral.criticalRatio).toBe(thresholds.EPHEMERAL_USE_CRITICAL_RATIO);
  });

  it('link every alert to a heading of docs/runbooks.md', () => {
    const headings = readFileSync(join(repoRoot, 'docs/runbooks.md'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('## '))
      .map((line) => githubAnchor(line.slice(3)));
    for (const rule of rules) {
      expect(headings).toContain(rule.annotations.runbook_url.split('#')[1]);
    }
  });

  it('overlap instead of banding: no level has an upper bound, and pages keep firing through a dip', () => {
    for (const rule of rules) {
      // `>= 0.5 < 0.8`: a figure moving between two levels would reset both timers.
      expect(rule.expr, rule.alert).not.toMatch(/[<>]=? [\d.]+ <=? [\d.]+/);
      expect(rule.expr, rule.alert).not.toMatch(/<=? [\d.]+ >=? [\d.]+/);
      if (rule.labels.severity === 'critical') {
        expect(rule.keep_firing_for, rule.alert).toBe(defaultConfig.keepFiringFor);
      }
    }
  });

  it('page on a flapping outage and never on a burst, unless the burst is counted failures', () => {
    for (const rule of rules.filter((candidate) => candidate.labels.severity === 'critical')) {
      const cases = ALERT_CASES.filter((alertCase) => alertCase.alert === rule.alert);
      const flapping = cases.filter((alertCase) => alertCase.kind === 'flapping');
      expect(
        flapping.some((alertCase) =>
          alertCase.expected.some((alert) => alert.labels.severity === 'critical'),
        ),
        `${rule.alert}: a flapping outage pages`,
      ).toBe(true);
      for (const burst of cases.filter((alertCase) => alertCase.kind === 'burst')) {
        // A predicted exhaustion that lasts less than `for` is noise; failed calls the kernel
        // returned are the outage itself, however short (docs/connect-errors.md).
        const counted = COUNTED_FAILURE_ALERTS.has(rule.alert);
        expect(burst.expected.length > 0, `${rule.alert}: ${burst.name}`).toBe(counted);
      }
    }
  });

  it('have firing, quiet, flapping, burst, idle, reset, absent and multi-instance cases for every alert', () => {
    for (const rule of rules) {
      const cases = ALERT_CASES.filter((alertCase) => alertCase.alert === rule.alert);
      for (const kind of CASE_KINDS) {
        expect(
          cases.some((alertCase) => alertCase.kind === kind),
          `${rule.alert}: ${kind}`,
        ).toBe(true);
      }
      const fired = cases.flatMap((alertCase) => alertCase.expected);
      expect(
        fired.some((alert) => alert.labels.severity === rule.labels.severity),
        `${rule.alert} fires at ${rule.labels.severity}`,
      ).toBe(true);
      expect(
        cases.some((alertCase) => alertCase.kind === 'quiet' && alertCase.expected.length === 0),
        `${rule.alert} stays quiet`,
      ).toBe(true);
      const multi = cases.find((alertCase) => alertCase.kind === 'multi-instance');
      const instances = Object.keys(multi?.series ?? {}).map(
        (s) => /instance="([^"]+)"/.exec(s)?.[1],
      );
      expect(new Set(instances).size, `${rule.alert}: several instances`).toBeGreaterThan(1);
    }
  });

  it('page on the ephemeral-port destination: exhaustion alerts carry its labels', () => {
    for (const alert of [
      'TcpStateEphemeralPortsExhausted',
      'TcpStateEphemeralPortsNearlyExhausted',
    ]) {
      const firing = ALERT_CASES.find((c) => c.alert === alert && c.expected.length > 0);
      expect(firing?.expected[0]?.labels).toMatchObject({
        local_address: expect.any(String),
        remote_address: expect.any(String),
        remote_port: expect.any(String),
      });
    }
  });

  it('one alert covers the host and every pod: a pod’s names its pod, namespace and container', () => {
    const perNamespace = new Set<string>();
    for (const alertCase of ALERT_CASES) {
      for (const fired of alertCase.expected) {
        if (fired.labels.pod === undefined) continue;
        perNamespace.add(alertCase.alert);
        expect(fired.labels, alertCase.name).toMatchObject({
          netns: expect.any(String),
          namespace: expect.any(String),
          container: expect.any(String),
        });
        expect(fired.description, alertCase.name).toMatch(/\bpod \S+\/\S+ \(container \S+\) on /);
      }
    }
    // The node's rules that the pods' own (TcpStatePod*) merged into, and the counted failures.
    expect([...perNamespace].sort()).toEqual([
      'TcpStateBindFailing',
      'TcpStateConnectFailing',
      'TcpStateConntrackTableNearlyFull',
      'TcpStateEphemeralPortHeadroomLow',
      'TcpStateEphemeralPortsExhausted',
      'TcpStateEphemeralPortsNearlyExhausted',
      'TcpStateListenQueueOverflowing',
      'TcpStateTimeWaitOverflow',
    ]);
    expect(rules.filter((rule) => rule.alert.startsWith('TcpStatePod'))).toEqual([]);
  });

  it('compare and group series of one network namespace, never the host’s with a pod’s', () => {
    for (const rule of rules.filter((candidate) => PER_NAMESPACE_FAMILY.test(candidate.expr))) {
      // Matching or grouping on the exporter alone must name the namespace too, unless the
      // alert is about the node as a whole.
      for (const [clause] of rule.expr.matchAll(/\b(?:on|by) \(cluster, job, instance\)/g)) {
        expect(
          ['TcpStateMemoryPressure', 'TcpStateSysctlsAssumed'],
          `${rule.alert}: ${clause}`,
        ).toContain(rule.alert);
      }
    }
  });
});

describe.skipIf(!canRun('promtool checks of the rules', { commands: ['promtool'] }))(
  'promtool',
  () => {
    const workDir = mkdtempSync(join(tmpdir(), 'tsa-promtool-'));
    afterAll(() => rmSync(workDir, { recursive: true, force: true }));

    it('check rules accepts the generated files: recording rules, then alerts', () => {
      const result = promtool(['check', 'rules', ...MIXIN_RULE_FILES]);
      expect(result.output).toContain(
        `Checking ${join(repoRoot, RECORDING_RULES_PATH)}\n  SUCCESS: ${recordingRules.length} rules found`,
      );
      expect(result.output).toContain(
        `Checking ${join(repoRoot, ALERTS_PATH)}\n  SUCCESS: ${rules.length} rules found`,
      );
      expect(result.status).toBe(0);
    });

    it('check config accepts the example prometheus.yml, whose job the alerts select', () => {
      const examplePath = join(repoRoot, EXAMPLE_PROMETHEUS_PATH);
      const result = promtool(['check', 'config', examplePath]);
      expect(result.status, result.output).toBe(0);
      const example = parse(readFileSync(examplePath, 'utf8')) as {
        scrape_configs: { job_name: string }[];
      };
      const jobs = example.scrape_configs.map((config) => config.job_name);
      for (const rule of rules.filter((r) => r.expr.includes('up{'))) {
        expect(jobs.map((job) => `up{job="${job}"}`)).toContain(/up\{[^}]*\}/.exec(rule.expr)?.[0]);
      }
    });

    // ~130 cases, some over 5 simulated hours: seconds alone, longer on a loaded machine.
    it('test rules passes every case of every alert', () => {
      const testFile = join(workDir, 'tcpstate-rules.test.yml');
      writeFileSync(
        testFile,
        stringify(promtoolTestFile(MIXIN_RULE_FILES, ALERT_CASES), { lineWidth: 0 }),
      );
      const result = promtool(['test', 'rules', testFile]);
      expect(result.output).toContain('SUCCESS');
      expect(result.status, result.output).toBe(0);
    }, 180_000);
  },
);

/** GitHub's heading anchor: lowercase, spaces to dashes, punctuation dropped. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}
