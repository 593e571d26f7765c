import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlertingRule } from '../../mixin/alerts.js';
import { defaultConfig } from '../../mixin/config.js';
import {
  ALERTS_PATH,
  DASHBOARD_PATHS,
  RECORDING_RULES_PATH,
  renderMixin,
} from '../../mixin/outputs.js';
import { driftedFiles } from '../../scripts/gen-mixin.js';
import { readRuleGroups } from '../../testkit/mixin/rule-files.js';

const repoRoot = resolve(import.meta.dirname, '../..');

describe('generated mixin files', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tsa-drift-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('are committed exactly as the generator writes them', () => {
    for (const [path, content] of renderMixin(defaultConfig)) {
      expect(readFileSync(join(repoRoot, path), 'utf8'), `${path}: run npm run gen:mixin`).toBe(
        content,
      );
    }
    expect(driftedFiles(repoRoot)).toEqual([]);
  });

  it('--check names a file that differs, and a missing one', () => {
    const copy = join(scratch, 'repo');
    for (const path of renderMixin(defaultConfig).keys()) {
      cpSync(join(repoRoot, path), join(copy, path));
    }
    writeFileSync(join(copy, ALERTS_PATH), '# edited by hand\n');
    rmSync(join(copy, DASHBOARD_PATHS.ports));
    expect(driftedFiles(copy)).toEqual([ALERTS_PATH, DASHBOARD_PATHS.ports]);
  });

  it('are laid out as monitoring-mixins are: recording rules, alerts, dashboards_out/', () => {
    const kinds = (path: string) =>
      new Set(
        readRuleGroups([join(repoRoot, path)]).flatMap((group) =>
          group.rules.map((rule) => (isAlertingRule(rule) ? 'alert' : 'record')),
        ),
      );
    expect(kinds(RECORDING_RULES_PATH)).toEqual(new Set(['record']));
    expect(kinds(ALERTS_PATH)).toEqual(new Set(['alert']));
    expect(RECORDING_RULES_PATH).toBe('mixin/prometheus_rules.yaml');
    expect(ALERTS_PATH).toBe('mixin/prometheus_alerts.yaml');
    for (const path of Object.values(DASHBOARD_PATHS)) {
      expect(path).toMatch(/^mixin\/dashboards_out\/tcpstate-\w+\.json$/);
    }
  });

  it('the script exits 0 on the committed tree', () => {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts/gen-mixin.ts'), '--check'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(output).toBe('');
  });
});
