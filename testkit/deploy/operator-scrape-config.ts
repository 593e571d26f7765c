/**
 * The scrape job prometheus-operator generates for one ServiceMonitor endpoint, for a target
 * whose service discovery labels a test gives (static_configs carry the `__meta_kubernetes_*`
 * labels that kubernetes_sd would set). The relabelling follows the operator's
 * generateServiceMonitorConfig (pkg/prometheus/promcfg.go, golden file
 * HonorLabelsOverriding.golden): its target labels (node or pod, namespace, service, pod,
 * container, job, endpoint), then the endpoint's own relabelings. Sharding is left out.
 */

/** A ServiceMonitor endpoint as written in the manifest (camelCase keys). */
export interface ServiceMonitorEndpoint {
  readonly port?: string;
  readonly path?: string;
  readonly honorLabels?: boolean;
  readonly relabelings?: readonly Readonly<Record<string, unknown>>[];
}

/** What kubernetes_sd (role endpoints) reports for one exporter pod behind the Service. */
export interface DiscoveredTarget {
  readonly address: string;
  readonly namespace: string;
  readonly service: string;
  readonly pod: string;
  readonly container: string;
  readonly node: string;
  readonly portName: string;
}

/** Prometheus' `${1}`, as the operator writes it. */
const FIRST_GROUP = `$${'{1}'}`;

const RELABEL_KEYS: Readonly<Record<string, string>> = {
  sourceLabels: 'source_labels',
  targetLabel: 'target_label',
};

/** The operator writes each relabeling's camelCase keys as Prometheus' snake_case ones. */
function toPrometheusRelabel(relabel: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(relabel).map(([key, value]) => [RELABEL_KEYS[key] ?? key, value]),
  );
}

export function operatorScrapeJob(options: {
  readonly jobName: string;
  readonly endpoint: ServiceMonitorEndpoint;
  readonly target: DiscoveredTarget;
}): Record<string, unknown> {
  const { endpoint, target } = options;
  const portName = endpoint.port ?? '';
  return {
    job_name: options.jobName,
    honor_labels: endpoint.honorLabels ?? false,
    metrics_path: endpoint.path ?? '/metrics',
    static_configs: [
      {
        targets: [target.address],
        labels: {
          __meta_kubernetes_namespace: target.namespace,
          __meta_kubernetes_service_name: target.service,
          __meta_kubernetes_endpoint_port_name: target.portName,
          __meta_kubernetes_endpoint_address_target_kind: 'Pod',
          __meta_kubernetes_endpoint_address_target_name: target.pod,
          __meta_kubernetes_pod_name: target.pod,
          __meta_kubernetes_pod_container_name: target.container,
          __meta_kubernetes_pod_node_name: target.node,
          __meta_kubernetes_pod_phase: 'Running',
        },
      },
    ],
    relabel_configs: [
      { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
      { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: portName },
      {
        source_labels: [
          '__meta_kubernetes_endpoint_address_target_kind',
          '__meta_kubernetes_endpoint_address_target_name',
        ],
        separator: ';',
        regex: 'Node;(.*)',
        replacement: FIRST_GROUP,
        target_label: 'node',
      },
      {
        source_labels: [
          '__meta_kubernetes_endpoint_address_target_kind',
          '__meta_kubernetes_endpoint_address_target_name',
        ],
        separator: ';',
        regex: 'Pod;(.*)',
        replacement: FIRST_GROUP,
        target_label: 'pod',
      },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      {
        action: 'drop',
        source_labels: ['__meta_kubernetes_pod_phase'],
        regex: '(Failed|Succeeded)',
      },
      {
        source_labels: ['__meta_kubernetes_service_name'],
        target_label: 'job',
        replacement: FIRST_GROUP,
      },
      { target_label: 'endpoint', replacement: portName },
      ...(endpoint.relabelings ?? []).map(toPrometheusRelabel),
    ],
  };
}
