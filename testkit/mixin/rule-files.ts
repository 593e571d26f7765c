/** The mixin's committed rule files, read as Prometheus loads them: recording rules, then alerts. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import type { RuleGroup } from '../../mixin/alerts.js';
import { RULE_PATHS } from '../../mixin/outputs.js';

const repoRoot = resolve(import.meta.dirname, '../..');

/** Absolute paths of `mixin/prometheus_rules.yaml` and `mixin/prometheus_alerts.yaml`. */
export const MIXIN_RULE_FILES: readonly string[] = RULE_PATHS.map((path) =>
  resolve(repoRoot, path),
);

/** Every group of the rule files, in order. */
export function readRuleGroups(paths: readonly string[] = MIXIN_RULE_FILES): RuleGroup[] {
  return paths.flatMap(
    (path) => (parse(readFileSync(path, 'utf8')) as { groups: RuleGroup[] }).groups,
  );
}

/** The rule files as one, for a Prometheus given a single rules file. */
export function mixinRulesText(paths: readonly string[] = MIXIN_RULE_FILES): string {
  return stringify({ groups: readRuleGroups(paths) }, { lineWidth: 0 });
}
