/**
 * The alert delivery path the end-to-end alert tests share: a webhook sink, an Alertmanager
 * delivering to it, and a Prometheus that scrapes the targets, evaluates the given rules and
 * sends to that Alertmanager. All inside a network namespace when one is given.
 */
import { stringify } from 'yaml';
import { defaultConfig } from '../../mixin/config.js';
import { MIXIN_RULE_FILES, readRuleGroups } from '../mixin/rule-files.js';
import {
  type RunningAlertmanager,
  startAlertmanager,
  startWebhookSink,
  type WebhookSink,
} from './alertmanager.js';
import { type RunningPrometheus, startPrometheus } from './prometheus.js';

export interface AlertPipeline {
  readonly sink: WebhookSink;
  readonly alertmanager: RunningAlertmanager;
  readonly prometheus: RunningPrometheus;
  /** Stops Prometheus, Alertmanager and the sink, in that order. */
  stop(): Promise<void>;
}

export async function startAlertPipeline(options: {
  /** The scrape job's name and its targets (`host:port`). */
  readonly job: string;
  readonly targets: readonly string[];
  /** The rule file's YAML. */
  readonly rules: string;
  readonly netns?: string;
}): Promise<AlertPipeline> {
  const netns = options.netns === undefined ? {} : { netns: options.netns };
  const sink = await startWebhookSink(netns);
  let alertmanager: RunningAlertmanager | undefined;
  try {
    alertmanager = await startAlertmanager({ webhookUrl: sink.url, ...netns });
    const prometheus = await startPrometheus({
      ...netns,
      config: {
        rule_files: ['rules.yml'],
        alerting: {
          alertmanagers: [
            { static_configs: [{ targets: [alertmanager.url.replace('http://', '')] }] },
          ],
        },
        scrape_configs: [{ job_name: options.job, static_configs: [{ targets: options.targets }] }],
      },
      files: { 'rules.yml': options.rules },
    });
    const started = alertmanager;
    return {
      sink,
      alertmanager: started,
      prometheus,
      async stop() {
        await prometheus.stop();
        await started.stop();
        await sink.stop();
      },
    };
  } catch (error) {
    await alertmanager?.stop();
    await sink.stop();
    throw error;
  }
}

/**
 * The pipeline of the tests that page through the mixin: the exporter targets under the
 * mixin's job, its rules with `for` cut short, handed back once every target was scraped twice.
 */
export async function startMixinAlertPipeline(
  targets: readonly string[],
  netns: string,
): Promise<AlertPipeline> {
  const pipeline = await startAlertPipeline({
    job: defaultConfig.jobName,
    targets,
    rules: rulesWithShortFor(),
    netns,
  });
  try {
    await pipeline.prometheus.waitForTargetsUp({ scrapes: 2, timeoutMs: 60_000 });
  } catch (error) {
    await pipeline.stop();
    throw error;
  }
  return pipeline;
}

/**
 * A rules file with every `for` and `keep_firing_for` cut to 1 s, so a 1 s evaluation reacts
 * (and resolves) at once.
 */
export function rulesWithShortFor(rulesPaths: readonly string[] = MIXIN_RULE_FILES): string {
  return stringify({
    groups: readRuleGroups(rulesPaths).map((group) => ({
      ...group,
      rules: group.rules.map((rule) => ({
        ...rule,
        ...('for' in rule && rule.for !== undefined ? { for: '1s' } : {}),
        ...('keep_firing_for' in rule && rule.keep_firing_for !== undefined
          ? { keep_firing_for: '1s' }
          : {}),
      })),
    })),
  });
}
