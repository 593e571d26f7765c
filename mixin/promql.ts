/** Small PromQL helpers shared by the alerts and the dashboards. */
import type { MixinConfig } from './config.js';

/** `metric{selector,extra...}`; empty parts are left out. */
export function series(metric: string, ...matchers: readonly string[]): string {
  const parts = matchers.filter((matcher) => matcher !== '');
  return parts.length === 0 ? metric : `${metric}{${parts.join(',')}}`;
}

/**
 * The labels that name one exporter: cluster, group and instance. Joins match on them and
 * aggregations keep them, so two exporters (of one cluster or of two) never add up.
 */
export function hostLabels(config: MixinConfig): string[] {
  return [...new Set([config.clusterLabel, ...config.groupLabels, ...config.instanceLabels])];
}

/** `on (cluster, job, instance)` with the configured labels. */
export function onHost(config: MixinConfig): string {
  return `on (${hostLabels(config).join(', ')})`;
}

/** `by (cluster, job, instance, extra...)` with the configured labels. */
export function byHost(config: MixinConfig, ...extra: readonly string[]): string {
  return `by (${[...hostLabels(config), ...extra].join(', ')})`;
}

/** The labels that name one destination of `tcpstate_ephemeral_ports_used`. */
export const DESTINATION_LABELS = ['local_address', 'remote_address', 'remote_port'] as const;

/** One destination as a Go template over the alert's labels (no `a:b` form: IPv6 has colons). */
export const DESTINATION_TEMPLATE =
  '{{ $labels.remote_address }} port {{ $labels.remote_port }} (from local address {{ $labels.local_address }})';

/**
 * The labels that say which network namespace a series is about (src/collectors/namespace-labels.ts):
 * the node's own series carry its inode and empty owner labels, a pod's its own. Absent
 * (without --collector.netns) they equal empty ones in PromQL.
 */
export const NAMESPACE_LABELS = ['netns', 'pod', 'namespace', 'container'] as const;

/** `on (cluster, job, instance, netns)`: one namespace of one exporter (owner labels follow from `netns`). */
export function onNamespace(config: MixinConfig): string {
  return `on (${[...hostLabels(config), 'netns'].join(', ')})`;
}

/** A family only the other namespaces have: the node's own series are those without it. */
export const NETNS_INFO = 'tcpstate_netns_info';

/** A query over the alert's own labels (`label=%q` in `queryText`), as a Go template run in Prometheus. */
export function labelQueryTemplate(queryText: string, labels: readonly string[]): string {
  return `printf \`${queryText}\` ${labels.map((label) => `$labels.${label}`).join(' ')} | query`;
}

/**
 * Where an alert's series is, as a Go template over its labels: the pod on Kubernetes, else
 * the container, else a namespace of no container that the node's own is not (told by its
 * tcpstate_netns_info of the same exporter), then the host.
 */
export function whereTemplate(config: MixinConfig): string {
  const labels = [...hostLabels(config), 'netns'];
  const info = `${NETNS_INFO}{${labels.map((label) => `${label}=%q`).join(',')}}`;
  return (
    '{{ if $labels.pod }}pod {{ $labels.namespace }}/{{ $labels.pod }} (container {{ $labels.container }}) on ' +
    '{{ else if $labels.container }}container {{ $labels.container }} on ' +
    `{{ else if $labels.netns }}{{ with ${labelQueryTemplate(info, labels)} }}` +
    'network namespace {{ $labels.netns }} on {{ end }}{{ end }}{{ $labels.instance }}'
  );
}
