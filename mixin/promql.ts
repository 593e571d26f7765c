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

/** The labels that say whose network namespace a `tcpstate_netns_*` series is. */
export const NETNS_IDENTITY_LABELS = ['netns', 'pod', 'namespace', 'container'] as const;

/**
 * Who owns a network namespace, as a Go template over the alert's labels: the pod on
 * Kubernetes, else the container, else the namespace's inode, and the host it runs on.
 */
export const NETNS_OWNER_TEMPLATE =
  '{{ if $labels.pod }}pod {{ $labels.namespace }}/{{ $labels.pod }} (container {{ $labels.container }})' +
  '{{ else if $labels.container }}container {{ $labels.container }}' +
  '{{ else }}network namespace {{ $labels.netns }}{{ end }} on {{ $labels.instance }}';
