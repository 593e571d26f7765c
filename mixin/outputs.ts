/**
 * Every file the mixin generates, keyed by its path from the repository root. The rules and
 * dashboards are laid out as monitoring-mixins are (`prometheus_rules.yaml`,
 * `prometheus_alerts.yaml`, `dashboards_out/`), so tools and habits made for those apply.
 */
import type { MixinConfig } from './config.js';
import { overviewDashboard } from './dashboards/overview.js';
import { podsDashboard } from './dashboards/pods.js';
import { portsDashboard } from './dashboards/ports.js';
import { alertsFile, examplePrometheusConfig, recordingRulesFile } from './rules.js';

/** Where `npm run gen:mixin` writes the mixin's own outputs. */
export const MIXIN_OUT_DIR = 'mixin';
export const RECORDING_RULES_FILE = 'prometheus_rules.yaml';
export const ALERTS_FILE = 'prometheus_alerts.yaml';
export const DASHBOARDS_DIR = 'dashboards_out';
export const RECORDING_RULES_PATH = `${MIXIN_OUT_DIR}/${RECORDING_RULES_FILE}`;
export const ALERTS_PATH = `${MIXIN_OUT_DIR}/${ALERTS_FILE}`;
/** Both rule files, recording rules first: a Prometheus loads them together. */
export const RULE_PATHS = [RECORDING_RULES_PATH, ALERTS_PATH] as const;
export const EXAMPLE_PROMETHEUS_PATH = 'deploy/prometheus/prometheus.yml';
const DASHBOARD_FILES = {
  overview: 'tcpstate-overview.json',
  ports: 'tcpstate-ports.json',
  pods: 'tcpstate-pods.json',
} as const;
export const DASHBOARD_PATHS = {
  overview: `${MIXIN_OUT_DIR}/${DASHBOARDS_DIR}/${DASHBOARD_FILES.overview}`,
  ports: `${MIXIN_OUT_DIR}/${DASHBOARDS_DIR}/${DASHBOARD_FILES.ports}`,
  pods: `${MIXIN_OUT_DIR}/${DASHBOARDS_DIR}/${DASHBOARD_FILES.pods}`,
} as const;

/** The monitoring-mixins layout, keyed by path from the output directory. */
export function renderMixinOutputs(config: MixinConfig): Map<string, string> {
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  return new Map([
    [RECORDING_RULES_FILE, recordingRulesFile(config)],
    [ALERTS_FILE, alertsFile(config)],
    [`${DASHBOARDS_DIR}/${DASHBOARD_FILES.overview}`, json(overviewDashboard(config))],
    [`${DASHBOARDS_DIR}/${DASHBOARD_FILES.ports}`, json(portsDashboard(config))],
    [`${DASHBOARDS_DIR}/${DASHBOARD_FILES.pods}`, json(podsDashboard(config))],
  ]);
}

/** What the repository commits: the outputs under mixin/ and the example prometheus.yml. */
export function renderMixin(config: MixinConfig): Map<string, string> {
  return new Map([
    ...[...renderMixinOutputs(config)].map(
      ([path, content]) => [`${MIXIN_OUT_DIR}/${path}`, content] as const,
    ),
    // Relative to deploy/prometheus/: the rule files where the repository keeps them.
    [
      EXAMPLE_PROMETHEUS_PATH,
      examplePrometheusConfig(
        config,
        RULE_PATHS.map((path) => `../../${path}`),
      ),
    ],
  ]);
}
