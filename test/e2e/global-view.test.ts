/**
 * The mixin on a global view: two Prometheus servers, each with `external_labels: {cluster}`,
 * scrape an exporter each and remote-write into a third (`--web.enable-remote-write-receiver`)
 * that loads the generated rules. Both targets are relabelled to the same job and instance, so
 * the clusters' series differ by `cluster` alone: a join that forgot it fails on duplicate
 * series, an aggregation that forgot it adds the clusters up. The exporters read two different
 * fixtures, so each cluster's answer is its own. Every rule expression must answer, per cluster,
 * exactly what it answers restricted to that cluster's series; every dashboard query, with the
 * cluster variable set, must show that cluster only.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertingRule, isAlertingRule, ruleGroups } from '../../mixin/alerts.js';
import { defaultConfig, withOverrides } from '../../mixin/config.js';
import { DASHBOARD_PATHS } from '../../mixin/outputs.js';
import { RECORDED, type RecordingRule } from '../../mixin/recording.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { mixinRulesText } from '../../testkit/mixin/rule-files.js';
import { checkDashboardQueries } from '../../testkit/prometheus/dashboard-queries.js';
import {
  type ExporterTarget,
  startExporterTarget,
} from '../../testkit/prometheus/exporter-target.js';
import {
  type PromSample,
  type RunningPrometheus,
  startPrometheus,
} from '../../testkit/prometheus/prometheus.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const CLUSTERS = [
  { name: 'a', fixture: 'test/fixtures/client-timewait/proc' },
  { name: 'b', fixture: 'test/fixtures/all-states/proc' },
] as const;
/** The instance label both clusters' targets get: the same name in two clusters. */
const INSTANCE = 'node-1';
const LABEL = defaultConfig.clusterLabel;
const LEVELS_AT_ZERO = {
  ephemeral: { warningRatio: 0, criticalRatio: 0, heldWarningRatio: 0 },
  timeWait: { bucketWarningRatio: 0 },
  listen: { overflowsPerSecond: -1 },
  synQueue: { dropsPerSecond: -1, cookiesPerSecond: -1, cookiesSurgeFactor: 0 },
  synSent: { sockets: 0 },
  orphans: { warningRatio: 0, criticalRatio: 0 },
  closeWaitStuck: { sockets: 0 },
  memory: { pressureEntries: 0 },
  conntrack: { snatWarningRatio: 0, snatCriticalRatio: 0, entriesWarningRatio: 0 },
  exporter: { staleSlackSeconds: -1e9 },
};
/** Alerts that join two series of one host: each must have answered in both clusters. */
const JOINED = [
  'TcpStateEphemeralPortsHeldHigh/warning',
  'TcpStateMemoryPressure/warning',
  'TcpStateExporterSamplingStalled/warning',
];

/** `labels` without `__name__`, as a sorted string: one series' identity. */
function identity(metric: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.entries(metric)
      .filter(([name]) => name !== '__name__')
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

function answer(samples: readonly PromSample[]): Map<string, string> {
  return new Map(samples.map((sample) => [identity(sample.metric), sample.value?.[1] ?? '']));
}

describe.skipIf(
  !canRun('the global view (remote write between real Prometheus servers)', {
    commands: ['prometheus'],
  }),
)('global view: two clusters remote-write into one Prometheus that loads the mixin', () => {
  const exporters: ExporterTarget[] = [];
  const clusters: RunningPrometheus[] = [];
  let global: RunningPrometheus;

  beforeAll(async () => {
    global = await startPrometheus({
      config: { rule_files: ['rules.yml'] },
      files: { 'rules.yml': mixinRulesText() },
      extraFlags: ['--web.enable-remote-write-receiver'],
    });
    for (const cluster of CLUSTERS) {
      const exporter = await startExporterTarget({ procfs: join(repoRoot, cluster.fixture) });
      exporters.push(exporter);
      clusters.push(
        await startPrometheus({
          config: {
            global: {
              scrape_interval: '1s',
              evaluation_interval: '1s',
              external_labels: { [LABEL]: cluster.name },
            },
            scrape_configs: [
              {
                job_name: defaultConfig.jobName,
                static_configs: [{ targets: [exporter.address] }],
                relabel_configs: [{ target_label: 'instance', replacement: INSTANCE }],
              },
            ],
            remote_write: [
              {
                url: `${global.url}/api/v1/write`,
                queue_config: { batch_send_deadline: '1s' },
              },
            ],
          },
        }),
      );
    }
    // rate() over the dashboards' 1m needs a few samples of each cluster.
    await waitFor(
      async () => {
        const counted = await global.query(
          `count_over_time(up{job="${defaultConfig.jobName}"}[5m])`,
        );
        const samples = counted.result as readonly PromSample[];
        const ready =
          samples.length === CLUSTERS.length &&
          samples.every((sample) => Number(sample.value?.[1]) >= 6);
        return ready ? true : undefined;
      },
      { timeoutMs: 45_000, describe: () => `remote-written samples missing:\n${global.output()}` },
    );
  }, 90_000);

  afterAll(async () => {
    for (const prometheus of clusters) await prometheus.stop();
    await global?.stop();
    for (const exporter of exporters) await exporter.stop();
  });

  it('every recording and alerting rule evaluates without error on the mixed series', async () => {
    type RuleState = { name: string; health: string; lastError?: string };
    const rules = await waitFor(
      async () => {
        const data = await global.api<{ groups: { rules: RuleState[] }[] }>('/api/v1/rules');
        const all = data.groups.flatMap((group) => group.rules);
        return all.every((rule) => rule.health !== 'unknown') ? all : undefined;
      },
      { timeoutMs: 20_000, describe: () => 'rules not evaluated yet' },
    );
    expect(rules.length).toBe(ruleGroups(defaultConfig).flatMap((group) => group.rules).length);
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
  }, 30_000);

  it('every rule expression answers, per cluster, what that cluster’s series alone give', async () => {
    // Levels at zero, so the fixtures' quiet hosts give the alert expressions something to
    // answer: the joins and groupings are the generated ones, only the numbers differ.
    const mixed = ruleGroups(withOverrides(LEVELS_AT_ZERO)).flatMap((group) => group.rules);
    // The same rules restricted to one cluster's series: what a cluster's own Prometheus sees.
    const own = CLUSTERS.map((cluster) =>
      ruleGroups(
        withOverrides({
          ...LEVELS_AT_ZERO,
          selector: `${defaultConfig.selector},${LABEL}="${cluster.name}"`,
        }),
      ).flatMap((group) => group.rules),
    );
    const name = (rule: AlertingRule | RecordingRule): string =>
      isAlertingRule(rule) ? `${rule.alert}/${rule.labels.severity}` : rule.record;
    // One instant for every query, a little back: all remote-written samples are in.
    const time = Math.floor(Date.now() / 1000) - 3;
    const problems: string[] = [];
    const answered = CLUSTERS.map(() => 0);
    const silent = new Set<string>();
    for (const [index, rule] of mixed.entries()) {
      const all = (await global.query(rule.expr, time)).result as readonly PromSample[];
      for (const sample of all) {
        if (!CLUSTERS.some((cluster) => cluster.name === sample.metric[LABEL]))
          problems.push(`${name(rule)}: a series without its cluster: ${identity(sample.metric)}`);
      }
      for (const [at, cluster] of CLUSTERS.entries()) {
        const alone = own[at]?.[index];
        if (alone === undefined) throw new Error(`no rule ${index} for cluster ${cluster.name}`);
        const expected = answer(
          (await global.query(alone.expr, time)).result as readonly PromSample[],
        );
        const got = answer(all.filter((sample) => sample.metric[LABEL] === cluster.name));
        if (expected.size > 0) answered[at] = (answered[at] ?? 0) + 1;
        else silent.add(name(rule));
        expect(got, `${name(rule)} in cluster ${cluster.name}`).toEqual(expected);
      }
    }
    expect(problems).toEqual([]);
    // Enough rules have something to say in each cluster for the comparison to mean much.
    // The rest need pods, NAT, failures or counters the fixtures do not have.
    for (const count of answered) expect(count).toBeGreaterThanOrEqual(10);
    expect(JOINED.filter((rule) => silent.has(rule))).toEqual([]);
  }, 60_000);

  it('the recorded series keep their cluster', async () => {
    for (const record of [RECORDED.ephemeralUsedRatio, RECORDED.timeWaitBucketsRatio]) {
      const result = await global.query(`count by (${LABEL}) (${record})`);
      const seen = (result.result as readonly PromSample[]).map((sample) => sample.metric[LABEL]);
      expect(seen.sort(), record).toEqual(CLUSTERS.map((cluster) => cluster.name));
    }
  });

  for (const [board, path] of Object.entries(DASHBOARD_PATHS)) {
    for (const cluster of CLUSTERS) {
      it(`${board}: with cluster ${cluster.name} chosen, every query shows that cluster only`, async () => {
        const { queries, answered, problems } = await checkDashboardQueries(
          global,
          join(repoRoot, path),
          {
            instances: 1,
            choose: { [LABEL]: cluster.name },
            sameLabels: { [LABEL]: cluster.name },
            // Fixtures hold no pods, NAT or stuck sockets: test/e2e/dashboards-queries.test.ts
            // checks that each query returns data.
            mayBeEmpty: /./,
            emptyVariables: ['pod'],
          },
        );
        expect(problems).toEqual([]);
        expect(queries).toBeGreaterThan(5);
        if (board !== 'pods') expect(answered).toBeGreaterThan(queries / 2);
      }, 60_000);
    }
  }
});
