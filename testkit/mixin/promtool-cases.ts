/** Turns the alert cases into a `promtool test rules` file for given rule files. */
import { type AlertingRule, isAlertingRule } from '../../mixin/alerts.js';
import type { AlertCase } from './alert-cases.js';
import { MIXIN_RULE_FILES, readRuleGroups } from './rule-files.js';

export function readAlertingRules(
  rulesPaths: readonly string[] = MIXIN_RULE_FILES,
): AlertingRule[] {
  return readRuleGroups(rulesPaths).flatMap((group) => group.rules.filter(isAlertingRule));
}

/**
 * The summary and runbook_url are static text taken from the rules file; the description
 * is templated, so each case states the exact text it expects.
 */
export function promtoolTestFile(
  rulesPaths: readonly string[],
  cases: readonly AlertCase[],
): object {
  // Both severities of an alert share their static annotations.
  const rules = new Map(readAlertingRules(rulesPaths).map((rule) => [rule.alert, rule]));
  const groups = readRuleGroups(rulesPaths);
  return {
    rule_files: rulesPaths,
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
