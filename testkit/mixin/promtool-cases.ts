/** Turns the alert cases into a `promtool test rules` file for a given rules file. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type AlertingRule, isAlertingRule, type RuleGroup } from '../../mixin/alerts.js';
import type { AlertCase } from './alert-cases.js';

export function readAlertingRules(rulesPath: string): AlertingRule[] {
  const file = parse(readFileSync(rulesPath, 'utf8')) as { groups: RuleGroup[] };
  return file.groups.flatMap((group) => group.rules.filter(isAlertingRule));
}

/**
 * The summary and runbook_url are static text taken from the rules file; the description
 * is templated, so each case states the exact text it expects.
 */
export function promtoolTestFile(rulesPath: string, cases: readonly AlertCase[]): object {
  // Both severities of an alert share their static annotations.
  const rules = new Map(readAlertingRules(rulesPath).map((rule) => [rule.alert, rule]));
  const groups = (parse(readFileSync(rulesPath, 'utf8')) as { groups: RuleGroup[] }).groups;
  return {
    rule_files: [rulesPath],
    evaluation_interval: '1m',
    // promtool runs groups in map order unless told: the recording group first, as listed,
    // so alerts read this evaluation's recordings every time.
    group_eval_order: groups.map((group) => group.name),
    tests: cases.map((alertCase) => {
      const rule = rules.get(alertCase.alert);
      if (rule === undefined)
        throw new Error(`case "${alertCase.name}": no alert ${alertCase.alert}`);
      return {
        name: `${alertCase.alert} (${alertCase.kind}): ${alertCase.name}`,
        interval: '1m',
        input_series: Object.entries(alertCase.series).map(([series, values]) => ({
          series,
          values,
        })),
        alert_rule_test: [
          {
            eval_time: alertCase.evalTime,
            alertname: alertCase.alert,
            exp_alerts: alertCase.expected.map((expected) => ({
              exp_labels: expected.labels,
              exp_annotations: {
                summary: rule.annotations.summary,
                description: expected.description,
                runbook_url: rule.annotations.runbook_url,
              },
            })),
          },
        ],
      };
    }),
  };
}
