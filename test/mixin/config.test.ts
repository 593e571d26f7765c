import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertGroups, isAlertingRule, ruleGroups } from '../../mixin/alerts.js';
import { defaultConfig, withOverrides } from '../../mixin/config.js';
import { renderMixinOutputs } from '../../mixin/outputs.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const FLEET_SETTINGS = { clusterLabel: 'k8s_cluster', groupLabels: ['namespace', 'job'] };
const fleet = withOverrides(FLEET_SETTINGS);
const FLEET_HOST = ['k8s_cluster', 'namespace', 'job', 'instance'];

/** The label lists of every `on (...)` and `by (...)` in `text`. */
function matchingLists(text: string): string[][] {
  return [...text.matchAll(/\b(?:on|by)\s*\(([^)]*)\)/g)].map((match) =>
    (match[1] ?? '').split(',').map((label) => label.trim()),
  );
}

describe('mixin settings', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tsa-mixin-config-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('merge overrides key by key, replace lists whole, and name a wrong key or type', () => {
    const merged = withOverrides({ clusterLabel: 'region', ephemeral: { warningRatio: 0.6 } });
    expect(merged.clusterLabel).toBe('region');
    expect(merged.ephemeral.warningRatio).toBe(0.6);
    expect(merged.ephemeral.criticalRatio).toBe(defaultConfig.ephemeral.criticalRatio);
    expect(withOverrides({ groupLabels: [] }).groupLabels).toEqual([]);
    expect(() => withOverrides({ clusterLabels: 'x' })).toThrow(/config\.clusterLabels: no such/);
    expect(() => withOverrides({ ephemeral: { warningRatio: '0.6' } })).toThrow(
      /config\.ephemeral\.warningRatio: expected number, got string/,
    );
    expect(() => withOverrides({ groupLabels: [1] })).toThrow(/groupLabels\[0\]: expected string/);
    expect(() => withOverrides([])).toThrow(/config: expected object, got array/);
  });

  it('every join and grouping of the rules keeps the configured cluster, group and instance labels', () => {
    const exprs = ruleGroups(fleet).flatMap((group) => group.rules.map((rule) => rule.expr));
    const lists = exprs.flatMap(matchingLists);
    expect(lists.length).toBeGreaterThan(5);
    for (const list of lists) expect(list.slice(0, FLEET_HOST.length)).toEqual(FLEET_HOST);
    // The defaults' labels are nowhere: nothing is hard-coded.
    for (const expr of exprs) expect(expr).not.toMatch(/\bcluster\b|on \(job/);
  });

  it('alert texts look numbers up for the alert’s own cluster, group and instance', () => {
    const descriptions = alertGroups(fleet)
      .flatMap((group) => group.rules.filter(isAlertingRule))
      .map((rule) => rule.annotations.description)
      .filter((text) => text.includes('| query'));
    expect(descriptions.length).toBeGreaterThan(5);
    for (const text of descriptions) {
      for (const match of text.matchAll(/printf `([^`]*)` ([^|]*)\| query/g)) {
        expect(match[1]).toContain(FLEET_HOST.map((label) => `${label}=%q`).join(','));
        // A namespace's own numbers add its netns after them.
        expect(match[2]?.trim()).toMatch(
          new RegExp(
            `^${FLEET_HOST.map((label) => `\\$labels\\.${label}`).join(' ')}( \\$labels\\.netns)?$`,
          ),
        );
      }
    }
  });

  it('dashboards offer a variable per label, each listing values under the ones before', () => {
    const overview = JSON.parse(
      renderMixinOutputs(fleet).get('dashboards_out/tcpstate-overview.json') ?? '{}',
    ) as { templating: { list: { name: string; query?: string }[] } };
    const list = overview.templating.list;
    expect(list.slice(0, 5).map((variable) => variable.name)).toEqual([
      'datasource',
      ...FLEET_HOST,
    ]);
    expect(list[4]?.query).toBe(
      `label_values(tcpstate_build_info{${fleet.selector},k8s_cluster="$k8s_cluster",namespace="$namespace",job="$job"}, instance)`,
    );
  });

  it('gen-mixin --config --out writes the monitoring-mixins layout for the settings, and exits 2 on a bad one', () => {
    const settings = join(scratch, 'settings.json');
    writeFileSync(settings, JSON.stringify(FLEET_SETTINGS));
    const out = join(scratch, 'out');
    const script = join(repoRoot, 'scripts/gen-mixin.ts');
    execFileSync(
      process.execPath,
      ['--import', 'tsx', script, '--config', settings, '--out', out],
      {
        cwd: repoRoot,
      },
    );
    expect(readdirSync(out).sort()).toEqual([
      'dashboards_out',
      'prometheus_alerts.yaml',
      'prometheus_rules.yaml',
    ]);
    expect(readdirSync(join(out, 'dashboards_out')).length).toBe(3);
    writeFileSync(settings, '{"clusterLabel": 1}');
    let status = 0;
    let stderr = '';
    try {
      execFileSync(
        process.execPath,
        ['--import', 'tsx', script, '--config', settings, '--out', out],
        {
          cwd: repoRoot,
          stdio: 'pipe',
        },
      );
    } catch (error) {
      ({ status, stderr } = error as { status: number; stderr: string });
    }
    expect(status).toBe(2);
    expect(String(stderr)).toContain('config.clusterLabel: expected string, got number');
  }, 60_000);
});
