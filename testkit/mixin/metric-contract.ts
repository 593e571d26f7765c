/**
 * Metric names from the README's metric table (the netns collector's namespace-only families
 * from docs/namespaces.md, conntrack's from docs/conntrack.md), written out by hand so a typo in
 * a rule or panel query is caught here rather than by an empty panel in production. A pod's
 * figures are the node's families with the namespace labels.
 */
export const CONTRACT_METRICS: ReadonlySet<string> = new Set([
  'tcpstate_sockets',
  'tcpstate_local_port_sockets',
  'tcpstate_remote_port_sockets',
  'tcpstate_ephemeral_ports_usable',
  'tcpstate_ephemeral_ports_used',
  'tcpstate_ephemeral_ports_used_max',
  'tcpstate_ephemeral_port_headroom_ratio',
  'tcpstate_ephemeral_destinations',
  'tcpstate_ephemeral_ports_time_wait',
  'tcpstate_ephemeral_port_hold_seconds',
  'tcpstate_ephemeral_ports_held',
  'tcpstate_syn_queue_full_drops_total',
  'tcpstate_syn_queue_full_cookies_total',
  'tcpstate_syncookies_sent_total',
  'tcpstate_syncookies_failed_total',
  'tcpstate_memory_pressures_total',
  'tcpstate_memory_aborts_total',
  'tcpstate_sockstat_memory_pages',
  'tcpstate_listen_queue_length',
  'tcpstate_close_wait_stuck_sockets',
  'tcpstate_sample_interval_seconds',
  'tcpstate_sysctl',
  'tcpstate_timewait_finished_total',
  'tcpstate_timewait_killed_total',
  'tcpstate_timewait_reused_total',
  'tcpstate_timewait_overflows_total',
  'tcpstate_paws_rejected_total',
  'tcpstate_listen_overflows_total',
  'tcpstate_listen_drops_total',
  'tcpstate_active_opens_total',
  'tcpstate_passive_opens_total',
  'tcpstate_attempt_fails_total',
  'tcpstate_established_resets_total',
  'tcpstate_segments_retransmitted_total',
  'tcpstate_resets_sent_total',
  'tcpstate_syn_retransmits_total',
  'tcpstate_timeouts_total',
  'tcpstate_timeout_aborts_total',
  'tcpstate_backlog_drops_total',
  'tcpstate_receive_queue_drops_total',
  'tcpstate_data_aborts_total',
  'tcpstate_sockstat_sockets',
  'tcpstate_collector_success',
  'tcpstate_collector_duration_seconds',
  'tcpstate_sample_duration_seconds_bucket',
  'tcpstate_samples_skipped_total',
  'tcpstate_last_sample_timestamp_seconds',
  'tcpstate_malformed_lines_total',
  'tcpstate_sysctls_assumed',
  'tcpstate_build_info',
  'tcpstate_netns_info',
  'tcpstate_netns_namespaces',
  'tcpstate_netns_read_failures_total',
  'tcpstate_netns_last_round_timestamp_seconds',
  'tcpstate_netns_round_duration_seconds',
  'tcpstate_conntrack_entries',
  'tcpstate_conntrack_entries_limit',
  'tcpstate_conntrack_events_total',
  'tcpstate_snat_ports_used',
  'tcpstate_snat_ports_used_max',
  'tcpstate_snat_ports_usable',
  'tcpstate_snat_port_headroom_ratio',
  'tcpstate_connect_errors_total',
  'tcpstate_bind_errors_total',
  'tcpstate_connect_errors_lost_events_total',
  'tcpstate_sockstat_sockets_max',
  'tcpstate_ephemeral_exhausted_samples_total',
]);

/**
 * The families that have a series per network namespace with --collector.netns (CHANGELOG.md),
 * recorded series made of them included: a rule or panel reading one compares or shows one
 * namespace at a time.
 */
export const PER_NAMESPACE_FAMILY =
  /\btcpstate_(?:sockets|ephemeral_|sysctl|timewait_|listen_overflows|listen_drops|active_opens|passive_opens|attempt_fails|established_resets|paws_|syn_queue_|syncookies_|memory_(?:pressures|aborts)|sockstat_sockets)/;

const RECORDED_NAME = /\b[a-z_]+:tcpstate_[a-z0-9_]+:[a-z0-9_]+/g;

/** The `tcpstate_*` metric names a PromQL expression or template refers to (not recorded ones). */
export function metricNames(text: string): string[] {
  const plain = text.replace(RECORDED_NAME, '');
  return [...plain.matchAll(/\btcpstate_[a-z0-9_]+/g)].map((match) => match[0]);
}

/** The recorded series (`level:tcpstate_metric:operation`) an expression refers to. */
export function recordedNames(text: string): string[] {
  return [...text.matchAll(RECORDED_NAME)].map((match) => match[0]);
}
