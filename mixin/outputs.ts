/** Every file the mixin generates, keyed by its path from the repository root. */
import type { MixinConfig } from './config.js';
import { overviewDashboard } from './dashboards/overview.js';
import { podsDashboard } from './dashboards/pods.js';
import { portsDashboard } from './dashboards/ports.js';
import { examplePrometheusConfig, rulesFile } from './rules.js';

export const RULES_PATH = 'deploy/prometheus/tcpstate-rules.yml';
export const EXAMPLE_PROMETHEUS_PATH = 'deploy/prometheus/prometheus.yml';
export const DASHBOARD_PATHS = {
  overview: 'grafana/dashboards/tcpstate-overview.json',
  ports: 'grafana/dashboards/tcpstate-ports.json',
  pods: 'grafana/dashboards/tcpstate-pods.json',
} as const;

export function renderMixin(config: MixinConfig): Map<string, string> {
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  return new Map([
    [RULES_PATH, rulesFile(config)],
    [EXAMPLE_PROMETHEUS_PATH, examplePrometheusConfig(config)],
    [DASHBOARD_PATHS.overview, json(overviewDashboard(config))],
    [DASHBOARD_PATHS.ports, json(portsDashboard(config))],
    [DASHBOARD_PATHS.pods, json(podsDashboard(config))],
  ]);
}
