/** Small PromQL helpers shared by the alerts and the dashboards. */

/** `metric{selector,extra...}`; empty parts are left out. */
export function series(metric: string, ...matchers: readonly string[]): string {
  const parts = matchers.filter((matcher) => matcher !== '');
  return parts.length === 0 ? metric : `${metric}{${parts.join(',')}}`;
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

/** Matches the series of one namespace of one exporter (owner labels follow from `netns`). */
export const ON_NAMESPACE = 'on (job, instance, netns)';

/** A family only the other namespaces have: the node's own series are those without it. */
export const NETNS_INFO = 'tcpstate_netns_info';

/**
 * Where an alert's series is, as a Go template over its labels: the pod on Kubernetes, else
 * the container, else a namespace of no container that the node's own is not (told by its
 * tcpstate_netns_info), then the host.
 */
export const WHERE_TEMPLATE =
  '{{ if $labels.pod }}pod {{ $labels.namespace }}/{{ $labels.pod }} (container {{ $labels.container }}) on ' +
  '{{ else if $labels.container }}container {{ $labels.container }} on ' +
  `{{ else if $labels.netns }}{{ with printf \`${NETNS_INFO}{job=%q,instance=%q,netns=%q}\` $labels.job $labels.instance $labels.netns | query }}` +
  'network namespace {{ $labels.netns }} on {{ end }}{{ end }}{{ $labels.instance }}';
