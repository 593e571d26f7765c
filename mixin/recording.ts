/**
 * Recording rules for the expressions several alerts and panels share. Every recorded
 * series keeps all its labels but the ones divided away (cluster, job, instance, the namespace
 * labels, and the destination or port where they apply): nothing here adds hosts, clusters or
 * network namespaces together.
 */
import type { MixinConfig } from './config.js';
import { DESTINATION_LABELS, series } from './promql.js';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

/** The recorded series, by what they hold. Names follow `level:metric:operation`. */
export const RECORDED = {
  /** Blocking sockets toward each top destination, as a share of its namespace's usable ports. */
  ephemeralUsedRatio: 'instance_destination:tcpstate_ephemeral_ports_used:ratio',
  /** Held ports (the bind-first clients' limit) as a share of the usable ports. */
  ephemeralHeldRatio: 'instance:tcpstate_ephemeral_ports_held:ratio',
  /** TIME_WAIT sockets (sockstat tw, what inet_twsk_alloc() compares) as a share of net.ipv4.tcp_max_tw_buckets. */
  timeWaitBucketsRatio: 'instance:tcpstate_time_wait_buckets:ratio',
  /** Orphaned sockets as a share of net.ipv4.tcp_max_orphans. */
  orphansRatio: 'instance:tcpstate_orphans:ratio',
  /** Seconds since the latest sample started. */
  sampleAge: 'instance:tcpstate_last_sample_age:seconds',
} as const;

export function sysctlSeries(config: MixinConfig, name: string): string {
  return series('tcpstate_sysctl', config.selector, `name="${name}"`);
}

export function recordingRules(config: MixinConfig): RecordingRule[] {
  const sel = config.selector;
  const usable = series('tcpstate_ephemeral_ports_usable', sel);
  return [
    {
      record: RECORDED.ephemeralUsedRatio,
      expr: `${series('tcpstate_ephemeral_ports_used', sel)}\n  / ignoring (${DESTINATION_LABELS.join(', ')}) group_left ()\n${usable}`,
    },
    {
      record: RECORDED.ephemeralHeldRatio,
      expr: `${series('tcpstate_ephemeral_ports_held', sel)} / ${usable}`,
    },
    {
      record: RECORDED.timeWaitBucketsRatio,
      expr: `sum without (family, kind) (${series('tcpstate_sockstat_sockets', sel, 'kind="tw"')})\n  / ignoring (name)\n${sysctlSeries(config, 'net.ipv4.tcp_max_tw_buckets')}`,
    },
    {
      record: RECORDED.orphansRatio,
      expr: `sum without (family, kind) (${series('tcpstate_sockstat_sockets', sel, 'kind="orphan"')})\n  / ignoring (name)\n${sysctlSeries(config, 'net.ipv4.tcp_max_orphans')}`,
    },
    {
      record: RECORDED.sampleAge,
      expr: `time() - ${series('tcpstate_last_sample_timestamp_seconds', sel)}`,
    },
  ];
}
