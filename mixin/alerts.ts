/**
 * Alerting rules. Each alert carries the labels an operator needs to act (the destination
 * for port exhaustion, the port for CLOSE_WAIT) and links to its runbook section.
 */
import type { Duration, MixinConfig } from './config.js';
import { DESTINATION_LABELS, DESTINATION_TEMPLATE, series } from './promql.js';

export type Severity = 'critical' | 'warning';

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: Duration;
  readonly labels: { readonly severity: Severity };
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertingRule[];
}

interface AlertSpec {
  readonly alert: string;
  readonly severity: Severity;
  readonly expr: string;
  readonly for?: Duration;
  readonly summary: string;
  readonly description: string;
}

/** GitHub's heading anchor for a heading that is just the alert name. */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

function toRule(config: MixinConfig, spec: AlertSpec): AlertingRule {
  return {
    alert: spec.alert,
    expr: spec.expr,
    ...(spec.for === undefined ? {} : { for: spec.for }),
    labels: { severity: spec.severity },
    annotations: {
      summary: spec.summary,
      description: spec.description,
      runbook_url: `${config.runbookBaseUrl}#${runbookAnchor(spec.alert)}`,
    },
  };
}

/**
 * Looks a per-instance number up at notification time (`query` runs in Prometheus). The
 * format string is a Go raw string so PromQL quotes need no escaping.
 */
function instanceValueTemplate(metric: string, ...matchers: readonly string[]): string {
  const selector = [...matchers, 'job=%q', 'instance=%q'].join(',');
  return `{{ with printf \`${metric}{${selector}}\` $labels.job $labels.instance | query }}{{ . | first | value | printf "%.0f" }}{{ end }}`;
}

function ephemeralGroup(config: MixinConfig): RuleGroup {
  const c = config.ephemeral;
  const used = series('tcpstate_ephemeral_ports_used', config.selector);
  const usable = series('tcpstate_ephemeral_ports_usable', config.selector);
  const perDestination = `ignoring (${DESTINATION_LABELS.join(', ')}) group_left ()`;
  const usedRatio = `(\n  ${used}\n    / ${perDestination}\n  ${usable}\n)`;
  const usableCount = instanceValueTemplate('tcpstate_ephemeral_ports_usable');
  const lookbackWords = c.predictLookback;
  const horizonWords = formatSeconds(c.predictHorizonSeconds);
  const busiest = 'topk(1, tcpstate_ephemeral_ports_used{job=%q,instance=%q})';
  return {
    name: 'tcpstate-ephemeral-ports',
    rules: [
      toRule(config, {
        alert: 'TcpStateEphemeralPortsExhausted',
        severity: 'critical',
        expr: `${usedRatio} >= 1`,
        for: c.exhaustedFor,
        summary: 'Every usable ephemeral port toward one destination is taken.',
        description:
          `{{ $labels.instance }}: all ${usableCount} usable ephemeral ports toward ${DESTINATION_TEMPLATE} ` +
          'are held by sockets (TIME_WAIT included). New connect() calls to this destination fail ' +
          'with EADDRNOTAVAIL ("Cannot assign requested address") unless a TIME_WAIT socket can be reused.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortsExhaustionPredicted',
        severity: 'critical',
        // Only a rising trend above a meaningful share pages: a flat or falling series never
        // does, and an already exhausted destination is TcpStateEphemeralPortsExhausted.
        expr: [
          `${usedRatio} > ${c.predictMinUsedRatio} < 1`,
          'and',
          `(\n  predict_linear(${used}[${c.predictLookback}], ${c.predictHorizonSeconds})\n    >= ${perDestination}\n  ${usable}\n)`,
          'and',
          `deriv(${used}[${c.predictLookback}]) > 0`,
        ].join('\n'),
        for: c.predictFor,
        summary: 'Ephemeral ports toward one destination will run out within the hour.',
        description:
          `{{ $labels.instance }}: {{ $value | humanizePercentage }} of the ${usableCount} usable ephemeral ports ` +
          `toward ${DESTINATION_TEMPLATE} are in use, and the trend of the last ${lookbackWords} reaches ` +
          `all of them within ${horizonWords}. Then connect() to this destination fails with EADDRNOTAVAIL ` +
          'and proxies answer 502.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortHeadroomLow',
        severity: 'warning',
        expr: `${series('tcpstate_ephemeral_port_headroom_ratio', config.selector)} < ${c.headroomLowRatio}`,
        for: c.headroomLowFor,
        summary: 'Few ephemeral ports are left toward the busiest destination.',
        description:
          '{{ $labels.instance }} has only {{ $value | humanizePercentage }} of its ' +
          `${usableCount} usable ephemeral ports left toward its busiest destination` +
          `{{ range printf \`${busiest}\` $labels.job $labels.instance | query }} ` +
          '({{ .Labels.remote_address }} port {{ .Labels.remote_port }} from local address {{ .Labels.local_address }}, ' +
          '{{ .Value | printf "%.0f" }} ports in use){{ end }}.',
      }),
    ],
  };
}

function timeWaitGroup(config: MixinConfig): RuleGroup {
  const c = config.timeWait;
  const buckets = series('tcpstate_sysctl', config.selector, 'name="net.ipv4.tcp_max_tw_buckets"');
  return {
    name: 'tcpstate-time-wait',
    rules: [
      toRule(config, {
        alert: 'TcpStateTimeWaitNearBucketLimit',
        severity: 'warning',
        expr:
          `sum without (family, state) (${series('tcpstate_sockets', config.selector, 'state="time_wait"')})\n` +
          `  / ignoring (name)\n${buckets}\n> ${c.bucketRatio}`,
        for: c.bucketFor,
        summary: 'TIME_WAIT sockets are close to net.ipv4.tcp_max_tw_buckets.',
        description:
          '{{ $labels.instance }} holds {{ $value | humanizePercentage }} of net.ipv4.tcp_max_tw_buckets ' +
          `(${instanceValueTemplate('tcpstate_sysctl', 'name="net.ipv4.tcp_max_tw_buckets"')}) ` +
          'in TIME_WAIT. Above the limit the kernel destroys new TIME_WAIT sockets at once.',
      }),
      toRule(config, {
        alert: 'TcpStateTimeWaitOverflow',
        severity: 'critical',
        expr: `increase(${series('tcpstate_timewait_overflows_total', config.selector)}[${c.overflowWindow}]) > 0`,
        summary: 'The kernel destroys TIME_WAIT sockets: net.ipv4.tcp_max_tw_buckets is reached.',
        description:
          `{{ $labels.instance }} dropped {{ $value | humanize }} TIME_WAIT sockets in the last ${c.overflowWindow} ` +
          'because net.ipv4.tcp_max_tw_buckets was reached (kernel log: "time wait bucket table overflow"). ' +
          'Those connections lose their TIME_WAIT guard: late segments can reach a new connection on the same ports.',
      }),
    ],
  };
}

function connectionGroup(config: MixinConfig): RuleGroup {
  const closeWait = (metric: string, direction: string): string =>
    `label_replace(${series(metric, config.selector, 'state="close_wait"', 'port!="other"')}, "direction", "${direction}", "", "")\n  > ${config.closeWait.sockets}`;
  return {
    name: 'tcpstate-connections',
    rules: [
      toRule(config, {
        alert: 'TcpStatePawsRejectsRising',
        severity: 'warning',
        expr: `rate(${series('tcpstate_paws_rejected_total', config.selector)}[${config.paws.window}]) > ${config.paws.rejectsPerSecond}`,
        for: config.paws.for,
        summary: 'Segments are rejected because their TCP timestamps went backwards (PAWS).',
        description:
          '{{ $labels.instance }} rejects {{ $value | humanize }} segments/s in {{ $labels.stage }} connections ' +
          'because their TCP timestamp is older than one already seen from that peer. Usually several clients ' +
          'share one NAT address with unrelated timestamp clocks; their connections stall or fail.',
      }),
      toRule(config, {
        alert: 'TcpStateListenQueueOverflowing',
        severity: 'warning',
        expr: `rate(${series('tcpstate_listen_overflows_total', config.selector)}[${config.listen.window}]) > ${config.listen.overflowsPerSecond}`,
        for: config.listen.for,
        summary: 'Incoming connections are dropped: a listen queue is full.',
        description:
          '{{ $labels.instance }} drops {{ $value | humanize }} incoming connections/s because the accept ' +
          'queue of a listening socket is full: the application does not accept() fast enough or its backlog is too small.',
      }),
      toRule(config, {
        alert: 'TcpStateCloseWaitAccumulating',
        severity: 'warning',
        expr: `${closeWait('tcpstate_local_port_sockets', 'inbound')}\nor\n${closeWait('tcpstate_remote_port_sockets', 'outbound')}`,
        for: config.closeWait.for,
        summary: 'Sockets pile up in CLOSE_WAIT: the application does not close them.',
        description:
          '{{ $labels.instance }} holds {{ $value }} sockets in CLOSE_WAIT ' +
          '{{ if eq $labels.direction "inbound" }}on its service port{{ else }}toward remote port{{ end }} ' +
          '{{ $labels.port }}: the peer closed them but the application never called close(). ' +
          'This is a socket leak that ends in file-descriptor exhaustion.',
      }),
    ],
  };
}

function exporterGroup(config: MixinConfig): RuleGroup {
  const c = config.exporter;
  const up = series('up', config.selector);
  return {
    name: 'tcpstate-exporter',
    rules: [
      toRule(config, {
        alert: 'TcpStateCollectorFailing',
        severity: 'warning',
        expr: `${series('tcpstate_collector_success', config.selector)} == 0`,
        for: c.collectorFailingFor,
        summary: 'An exporter collector keeps failing; its metrics are missing.',
        description:
          `The {{ $labels.collector }} collector of the exporter on {{ $labels.instance }} has failed for ${c.collectorFailingFor}; ` +
          'its series are absent, so dashboards and alerts built on them see nothing.',
      }),
      toRule(config, {
        alert: 'TcpStateExporterDown',
        severity: 'warning',
        expr: `${up} == 0`,
        for: c.downFor,
        summary: 'Prometheus cannot scrape the TCP state exporter.',
        description: `Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) have failed for ${c.downFor}; TCP state alerts for this host cannot fire.`,
      }),
      toRule(config, {
        alert: 'TcpStateExporterAbsent',
        severity: 'warning',
        expr: `absent(${up})`,
        for: c.absentFor,
        summary: 'Prometheus has no TCP state exporter target.',
        description: `No target matches ${up} for ${c.absentFor}: service discovery or the scrape configuration lost the exporter, and no TCP state alert can fire.`,
      }),
      toRule(config, {
        alert: 'TcpStateExporterSamplingStalled',
        severity: 'warning',
        expr: `time() - ${series('tcpstate_last_sample_timestamp_seconds', config.selector)} > ${c.sampleStaleSeconds}`,
        for: c.stalledFor,
        summary: 'The exporter serves old numbers: its last sample is stale.',
        description:
          "The exporter on {{ $labels.instance }} last sampled the kernel's tables {{ $value | humanizeDuration }} ago; " +
          'every number it serves is that old.',
      }),
    ],
  };
}

function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'an hour' : `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export function alertGroups(config: MixinConfig): RuleGroup[] {
  return [
    ephemeralGroup(config),
    timeWaitGroup(config),
    connectionGroup(config),
    exporterGroup(config),
  ];
}
