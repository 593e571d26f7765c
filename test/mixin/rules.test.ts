import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { EXAMPLE_PROMETHEUS_PATH, RULES_PATH } from '../../mixin/outputs.js';
import { canRun } from '../helpers/capabilities.js';
import { ALERT_CASES } from './alert-cases.js';
import { CONTRACT_METRICS, metricNames } from './metric-contract.js';
import { promtoolTestFile, readAlertingRules } from './promtool-cases.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const rulesPath = join(repoRoot, RULES_PATH);
const rules = readAlertingRules(rulesPath);

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
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      expect(rule.annotations.description.length).toBeGreaterThan(60);
      for (const metric of metricNames(`${rule.expr} ${rule.annotations.description}`)) {
        expect(CONTRACT_METRICS.has(metric), `${rule.alert}: ${metric}`).toBe(true);
      }
      expect(rule.annotations.runbook_url).toMatch(/\/docs\/runbooks\.md#tcpstate[a-z]+$/);
    }
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
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

  it('have a firing case and a quiet case for every alert', () => {
    for (const rule of rules) {
      const cases = ALERT_CASES.filter((alertCase) => alertCase.alert === rule.alert);
      expect(
        cases.some((alertCase) => alertCase.expected.length > 0),
        `${rule.alert} fires`,
      ).toBe(true);
      expect(
        cases.some((alertCase) => alertCase.expected.length === 0),
        `${rule.alert} stays quiet`,
      ).toBe(true);
    }
  });

  it('page on the ephemeral-port destination: exhaustion alerts carry its labels', () => {
    for (const alert of [
      'TcpStateEphemeralPortsExhausted',
      'TcpStateEphemeralPortsExhaustionPredicted',
    ]) {
      const firing = ALERT_CASES.find((c) => c.alert === alert && c.expected.length > 0);
      expect(firing?.expected[0]?.labels).toMatchObject({
        local_address: expect.any(String),
        remote_address: expect.any(String),
        remote_port: expect.any(String),
      });
    }
  });
});

describe.skipIf(!canRun('promtool checks of the rules', { commands: ['promtool'] }))(
  'promtool',
  () => {
    const workDir = mkdtempSync(join(tmpdir(), 'tsa-promtool-'));
    afterAll(() => rmSync(workDir, { recursive: true, force: true }));

    it('check rules accepts the generated file', () => {
      const result = promtool(['check', 'rules', rulesPath]);
      expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
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

    it('test rules passes every firing and quiet case', () => {
      const testFile = join(workDir, 'tcpstate-rules.test.yml');
      writeFileSync(
        testFile,
        stringify(promtoolTestFile(rulesPath, ALERT_CASES), { lineWidth: 0 }),
      );
      const result = promtool(['test', 'rules', testFile]);
      expect(result.output).toContain('SUCCESS');
      expect(result.status, result.output).toBe(0);
    });
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
