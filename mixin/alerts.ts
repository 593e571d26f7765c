/**
 * Alerting rules. Each alert carries the labels an operator needs to act (the instance, and
 * the destination, port or stage where one applies) and links to its runbook section.
 * Every expression keeps `job` and `instance`, so several exporters never add up, and
 * compares series of one exporter only. Thresholds and their reasons: mixin/config.ts.
 */
import type { Duration, MixinConfig } from './config.js';
import { conntrackGroup } from './conntrack-alerts.js';
import {
  DESTINATION_LABELS,
  DESTINATION_TEMPLATE,
  NETNS_OWNER_TEMPLATE,
  series,
} from './promql.js';
import { RECORDED, type RecordingRule, recordingRules, sysctlSeries } from './recording.js';

/** `info`: worth knowing, never worth waking anyone (routed to a ticket or dashboard). */
export type Severity = 'critical' | 'warning' | 'info';

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
  /** Still firing this long after the condition clears (flapping inputs). */
  readonly keep_firing_for?: Duration;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (AlertingRule | RecordingRule)[];
}

export function isAlertingRule(rule: AlertingRule | RecordingRule): rule is AlertingRule {
  return 'alert' in rule;
}

export interface AlertSpec {
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

export function toRule(config: MixinConfig, spec: AlertSpec): AlertingRule {
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
export function instanceValueTemplate(metric: string, ...matchers: readonly string[]): string {
  return labelValueTemplate(metric, matchers, ['job', 'instance']);
}

/** The same for a network namespace's series: its exporter and its `netns` label. */
function netnsValueTemplate(metric: string): string {
  return labelValueTemplate(metric, [], ['job', 'instance', 'netns']);
}

function labelValueTemplate(
  metric: string,
  matchers: readonly string[],
  labels: readonly string[],
): string {
  const selector = [...matchers, ...labels.map((label) => `${label}=%q`)].join(',');
  const args = labels.map((label) => `$labels.${label}`).join(' ');
  return `{{ with printf \`${metric}{${selector}}\` ${args} | query }}{{ . | first | value | printf "%.0f" }}{{ end }}`;
}

function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'an hour' : `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function ephemeralGroup(config: MixinConfig): RuleGroup {
  const c = config.ephemeral;
  const sel = config.selector;
  const ratio = series(RECORDED.ephemeralUsedRatio, sel);
  const used = series('tcpstate_ephemeral_ports_used', sel);
  const usable = series('tcpstate_ephemeral_ports_usable', sel);
  const usableCount = instanceValueTemplate('tcpstate_ephemeral_ports_usable');
  const busiest = 'topk(1, tcpstate_ephemeral_ports_used{job=%q,instance=%q})';
  const blocking =
    'sockets that block connect() to it (TIME_WAIT that tcp_tw_reuse can take over is not counted)';
  // As doctor: when one destination holds every held port, the exhaustion alerts tell it.
  const heldHigh = (severity: Severity, condition: string): AlertSpec => ({
    alert: 'TcpStateEphemeralPortsHeldHigh',
    severity,
    expr:
      `${series(RECORDED.ephemeralHeldRatio, sel)} ${condition}\nand on (job, instance)\n` +
      `${series('tcpstate_ephemeral_ports_held', sel)} > ${series('tcpstate_ephemeral_ports_used_max', sel)}`,
    for: c.heldFor,
    summary:
      'Most ephemeral ports are held: clients that bind() before connect() are near their limit.',
    description:
      '{{ $labels.instance }}: {{ $value | humanizePercentage }} of its ' +
      `${usableCount} usable ephemeral ports are held by some socket. A client that binds its local ` +
      'address before connect() (nginx proxy_bind, HAProxy source) needs a port free toward every ' +
      'destination at once, and fails with EADDRINUSE when none is.',
  });
  return {
    name: 'tcpstate-ephemeral-ports',
    rules: [
      toRule(config, {
        alert: 'TcpStateEphemeralPortsExhausted',
        severity: 'critical',
        expr: `${ratio} >= 1`,
        for: c.exhaustedFor,
        summary: 'connect() to one destination fails: no usable ephemeral port is left toward it.',
        description:
          `{{ $labels.instance }}: all ${usableCount} usable ephemeral ports toward ${DESTINATION_TEMPLATE} ` +
          `are held by ${blocking}. New connect() calls to this destination fail with EADDRNOTAVAIL ` +
          '("Cannot assign requested address") and proxies answer 502.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortsNearlyExhausted',
        severity: 'critical',
        expr: `${ratio} >= ${c.criticalRatio} < 1`,
        for: c.criticalFor,
        summary:
          'Almost no ephemeral ports are left toward one destination: connect() fails at the next burst.',
        description:
          `{{ $labels.instance }}: {{ $value | humanizePercentage }} of the ${usableCount} usable ephemeral ports ` +
          `toward ${DESTINATION_TEMPLATE} are held by ${blocking}. A burst of new connections exhausts the rest, ` +
          'and then connect() to this destination fails with EADDRNOTAVAIL.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortsExhaustionPredicted',
        severity: 'warning',
        // A rising trend over hours above the warning share; a flat or falling series never
        // fires, and a destination past the critical share has its own page.
        expr: [
          `${ratio} >= ${c.warningRatio} < ${c.criticalRatio}`,
          'and',
          `(\n  predict_linear(${used}[${c.predictLookback}], ${c.predictHorizonSeconds})\n    >= ignoring (${DESTINATION_LABELS.join(', ')}) group_left ()\n  ${usable}\n)`,
          'and',
          `deriv(${used}[${c.predictLookback}]) > 0`,
        ].join('\n'),
        for: c.predictFor,
        summary: `Ephemeral ports toward one destination will run out within ${formatSeconds(c.predictHorizonSeconds)}.`,
        description:
          `{{ $labels.instance }}: {{ $value | humanizePercentage }} of the ${usableCount} usable ephemeral ports ` +
          `toward ${DESTINATION_TEMPLATE} are held by sockets that block connect(), and the trend of the last ` +
          `${c.predictLookback} reaches all of them within ${formatSeconds(c.predictHorizonSeconds)}. ` +
          'Then connect() to this destination fails with EADDRNOTAVAIL.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortHeadroomLow',
        severity: 'warning',
        expr: `${series('tcpstate_ephemeral_port_headroom_ratio', sel)} <= ${round(1 - c.warningRatio)} > ${round(1 - c.criticalRatio)}`,
        for: c.headroomLowFor,
        summary:
          'Fewer than half the usable ephemeral ports are left toward the busiest destination.',
        description:
          '{{ $labels.instance }} has only {{ $value | humanizePercentage }} of its ' +
          `${usableCount} usable ephemeral ports left toward its busiest destination` +
          `{{ range printf \`${busiest}\` $labels.job $labels.instance | query }} ` +
          '({{ .Labels.remote_address }} port {{ .Labels.remote_port }} from local address {{ .Labels.local_address }}, ' +
          '{{ .Value | printf "%.0f" }} ports blocked){{ end }}.',
      }),
      toRule(config, heldHigh('warning', `>= ${c.heldWarningRatio}`)),
    ],
  };
}

/**
 * Per network namespace (`--collector.netns`): a pod's own port range, TIME_WAIT table and
 * limits, at the node's levels, with the pod, namespace and container in every alert.
 */
function podGroup(config: MixinConfig): RuleGroup {
  const c = config.ephemeral;
  const sel = config.selector;
  const ratio = series(RECORDED.netnsEphemeralUsedRatio, sel);
  const usableCount = netnsValueTemplate('tcpstate_netns_ephemeral_ports_usable');
  const blocking = 'sockets that block connect() to it';
  const headroomLow = (severity: Severity, condition: string, duration: Duration): AlertSpec => ({
    alert: 'TcpStatePodEphemeralPortHeadroomLow',
    severity,
    expr: `${ratio} ${condition}`,
    for: duration,
    summary: 'Few ephemeral ports are left in a pod toward one destination.',
    description:
      `${NETNS_OWNER_TEMPLATE}: {{ $value | humanizePercentage }} of the ${usableCount} usable ephemeral ports ` +
      `of its network namespace toward ${DESTINATION_TEMPLATE} are held by ${blocking}. Once all are, ` +
      'connect() from the pod to this destination fails with EADDRNOTAVAIL.',
  });
  return {
    name: 'tcpstate-pods',
    rules: [
      toRule(config, {
        alert: 'TcpStatePodEphemeralPortsExhausted',
        severity: 'critical',
        expr: `${ratio} >= 1`,
        for: c.exhaustedFor,
        summary:
          'A pod’s connect() to one destination fails: no usable ephemeral port is left toward it.',
        description:
          `${NETNS_OWNER_TEMPLATE}: all ${usableCount} usable ephemeral ports of its network namespace toward ` +
          `${DESTINATION_TEMPLATE} are held by ${blocking} (TIME_WAIT that tcp_tw_reuse can take over is not ` +
          'counted). New connect() calls from the pod to this destination fail with EADDRNOTAVAIL ' +
          '("Cannot assign requested address").',
      }),
      toRule(
        config,
        headroomLow('warning', `>= ${c.warningRatio} < ${c.criticalRatio}`, c.headroomLowFor),
      ),
      toRule(config, headroomLow('critical', `>= ${c.criticalRatio} < 1`, c.criticalFor)),
      toRule(config, {
        alert: 'TcpStatePodTimeWaitOverflow',
        severity: 'warning',
        expr: `increase(${series('tcpstate_netns_timewait_overflows_total', sel)}[${config.pods.overflowWindow}]) > 0`,
        summary:
          'The kernel destroys a pod’s TIME_WAIT sockets: its tcp_max_tw_buckets is reached.',
        description:
          `${NETNS_OWNER_TEMPLATE}: the kernel dropped {{ $value | humanize }} TIME_WAIT sockets of its network ` +
          `namespace in the last ${config.pods.overflowWindow} because the namespace's net.ipv4.tcp_max_tw_buckets ` +
          'was reached. Those connections lose their TIME_WAIT guard: late segments can reach a new connection ' +
          'on the same ports.',
      }),
      toRule(config, {
        alert: 'TcpStatePodSysctlsAssumed',
        severity: 'info',
        // One alert per node: the usual cause, a missing capability, is the node's, not a pod's.
        expr: `count by (job, instance) (${series('tcpstate_netns_sysctls_assumed', sel)} == 1) > 0`,
        for: config.pods.sysctlsAssumedFor,
        summary: 'Pods’ port figures assume kernel defaults: their sysctls cannot be read.',
        description:
          'The exporter on {{ $labels.instance }} cannot read the sysctls of {{ $value }} network namespaces ' +
          '(it needs CAP_SYS_ADMIN to enter them) and computes their ephemeral figures with a new namespace’s ' +
          'kernel defaults. A pod that sets its own net.ipv4.ip_local_port_range or tcp_tw_reuse gets wrong headroom.',
      }),
      toRule(config, {
        alert: 'TcpStateNetnsNamespacesDropped',
        severity: 'warning',
        expr: `sum without (outcome) (${series('tcpstate_netns_namespaces', sel, 'outcome="dropped"')}) > 0`,
        for: config.pods.droppedFor,
        summary:
          'Some pods have no TCP figures: the node has more namespaces than --collector.netns.max.',
        description:
          'The exporter on {{ $labels.instance }} leaves {{ $value }} network namespaces out, beyond the ' +
          `${instanceValueTemplate('tcpstate_netns_namespaces', 'outcome="exported"')} it exports ` +
          '(--collector.netns.max, those with the most sockets first): their pods have no per-pod series and no alerts.',
      }),
    ],
  };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function timeWaitGroup(config: MixinConfig): RuleGroup {
  const c = config.timeWait;
  const ratio = series(RECORDED.timeWaitBucketsRatio, config.selector);
  const limit = instanceValueTemplate('tcpstate_sysctl', 'name="net.ipv4.tcp_max_tw_buckets"');
  const nearLimit = (severity: Severity, expr: string): AlertSpec => ({
    alert: 'TcpStateTimeWaitNearBucketLimit',
    severity,
    expr,
    for: c.bucketFor,
    summary: 'TIME_WAIT sockets are close to net.ipv4.tcp_max_tw_buckets.',
    description:
      `{{ $labels.instance }} holds {{ $value | humanizePercentage }} of net.ipv4.tcp_max_tw_buckets (${limit}) ` +
      'in TIME_WAIT. Above the limit the kernel destroys new TIME_WAIT sockets at once.',
  });
  return {
    name: 'tcpstate-time-wait',
    rules: [
      toRule(
        config,
        nearLimit('warning', `${ratio} >= ${c.bucketWarningRatio} < ${c.bucketCriticalRatio}`),
      ),
      toRule(config, nearLimit('critical', `${ratio} >= ${c.bucketCriticalRatio}`)),
      toRule(config, {
        alert: 'TcpStateTimeWaitOverflow',
        severity: 'warning',
        expr: `increase(${series('tcpstate_timewait_overflows_total', config.selector)}[${c.overflowWindow}]) > 0`,
        summary: 'The kernel destroys TIME_WAIT sockets: net.ipv4.tcp_max_tw_buckets is reached.',
        description:
          `{{ $labels.instance }} dropped {{ $value | humanize }} TIME_WAIT sockets in the last ${c.overflowWindow} ` +
          'because net.ipv4.tcp_max_tw_buckets was reached. Those connections lose their TIME_WAIT guard: ' +
          'late segments can reach a new connection on the same ports.',
      }),
    ],
  };
}

function listenerGroup(config: MixinConfig): RuleGroup {
  const c = config.listen;
  const sel = config.selector;
  const window = config.rateWindow;
  const rate = (metric: string): string => `rate(${series(metric, sel)}[${window}])`;
  return {
    name: 'tcpstate-listeners',
    rules: [
      toRule(config, {
        alert: 'TcpStateListenQueueOverflowing',
        severity: 'warning',
        expr: `${rate('tcpstate_listen_overflows_total')} > ${c.overflowsPerSecond}`,
        for: c.for,
        summary: 'Incoming connections are dropped: a listen queue is full.',
        description:
          '{{ $labels.instance }} drops {{ $value | humanize }} incoming connections/s because the accept ' +
          'queue of a listening socket is full: the application does not accept() fast enough or its backlog is too small.',
      }),
      toRule(config, {
        alert: 'TcpStateListenQueueFull',
        severity: 'warning',
        // /proc/net/tcp shows a listener's queue length, not its limit (tx_queue is 0): the
        // port whose queue stays non-empty while accept queues overflow is the full one.
        expr: [
          `${series('tcpstate_listen_queue_length', sel)} > 0`,
          'and on (job, instance)',
          `${rate('tcpstate_listen_overflows_total')} > ${c.overflowsPerSecond}`,
        ].join('\n'),
        for: c.queueFullFor,
        summary:
          'A listening port’s accept queue overflows: its program does not accept() in time.',
        description:
          '{{ $labels.instance }}: {{ $value }} connections wait in the accept queue of port {{ $labels.port }} ' +
          'while the host drops connections at full accept queues: that program does not accept() in time, ' +
          'or its backlog is too small.',
      }),
      toRule(config, {
        alert: 'TcpStateSynQueueOverflowing',
        severity: 'warning',
        expr: `${rate('tcpstate_syn_queue_full_drops_total')} > ${config.synQueue.dropsPerSecond}`,
        for: config.synQueue.for,
        summary:
          'Connection attempts are dropped: the SYN queue is full and SYN cookies cannot help.',
        description:
          '{{ $labels.instance }} drops {{ $value | humanize }} SYNs/s because a listener’s SYN queue is full ' +
          'and no SYN cookie was sent (net.ipv4.tcp_syncookies off, or the queue is full of cookies too). ' +
          'Clients retry after a second or more, or fail.',
      }),
      toRule(config, {
        alert: 'TcpStateSynCookiesSent',
        severity: 'warning',
        expr: `${rate('tcpstate_syncookies_sent_total')} > ${config.synQueue.cookiesPerSecond}`,
        for: config.synQueue.for,
        summary: 'A SYN queue keeps overflowing: the kernel answers with SYN cookies.',
        description:
          '{{ $labels.instance }} sends {{ $value | humanize }} SYN cookies/s: a listener’s SYN queue is full, ' +
          'from a SYN flood or a backlog too small for the load. Connections still open, but the ' +
          'queue is not absorbing the load.',
      }),
    ],
  };
}

function resourceGroup(config: MixinConfig): RuleGroup {
  const sel = config.selector;
  const maxOrphans = instanceValueTemplate('tcpstate_sysctl', 'name="net.ipv4.tcp_max_orphans"');
  const memPages = series('tcpstate_sockstat_memory_pages', sel);
  const orphans = (severity: Severity, condition: string): AlertSpec => ({
    alert: 'TcpStateOrphansNearLimit',
    severity,
    expr: `${series(RECORDED.orphansRatio, sel)} ${condition}`,
    for: config.orphans.for,
    summary: 'Orphaned TCP sockets approach net.ipv4.tcp_max_orphans.',
    description:
      '{{ $labels.instance }} holds orphaned sockets (closed by their program, still closing in TCP) ' +
      `at {{ $value | humanizePercentage }} of net.ipv4.tcp_max_orphans (${maxOrphans}). The kernel ` +
      'resets such connections from half the limit on, and all of them at the limit ("too many orphaned sockets").',
  });
  return {
    name: 'tcpstate-kernel-resources',
    rules: [
      toRule(
        config,
        orphans('warning', `>= ${config.orphans.warningRatio} < ${config.orphans.criticalRatio}`),
      ),
      toRule(config, orphans('critical', `>= ${config.orphans.criticalRatio}`)),
      toRule(config, {
        alert: 'TcpStateMemoryPressure',
        severity: 'warning',
        // As doctor: at or above the pressure level, or entering pressure (between samples).
        expr: [
          `(${memPages} >= ignoring (name) ${sysctlSeries(config, 'net.ipv4.tcp_mem.pressure')})`,
          'or on (job, instance)',
          `increase(${series('tcpstate_memory_pressures_total', sel)}[${config.rateWindow}]) > 0`,
        ].join('\n'),
        for: config.memory.pressureFor,
        summary: 'TCP is in memory pressure: the kernel shrinks socket buffers.',
        description:
          '{{ $labels.instance }}: TCP memory is at or above the pressure level of net.ipv4.tcp_mem (host-wide), ' +
          `or TCP entered memory pressure in the last ${config.rateWindow}, for ${config.memory.pressureFor}. ` +
          'The kernel shrinks socket buffers, so throughput falls.',
      }),
      toRule(config, {
        alert: 'TcpStateMemoryExhausted',
        severity: 'critical',
        expr: [
          `increase(${series('tcpstate_memory_aborts_total', sel)}[${config.memory.abortWindow}]) > 0`,
          'or on (job, instance)',
          `(${memPages} >= ignoring (name) ${sysctlSeries(config, 'net.ipv4.tcp_mem.max')})`,
        ].join('\n'),
        summary: 'TCP memory is exhausted: the kernel aborts connections.',
        description:
          '{{ $labels.instance }}: TCP buffers reached net.ipv4.tcp_mem’s maximum, or the kernel aborted ' +
          `connections for lack of memory in the last ${config.memory.abortWindow} (TCPAbortOnMemory). ` +
          'Connections are reset and new data is dropped.',
      }),
    ],
  };
}

function connectionGroup(config: MixinConfig): RuleGroup {
  const c = config.closeWait;
  const closeWait = (metric: string, direction: string): string =>
    `label_replace(${series(metric, config.selector, 'state="close_wait"', 'port!="other"')}, "direction", "${direction}", "", "")`;
  const both = `(\n  ${closeWait('tcpstate_local_port_sockets', 'inbound')}\n  or\n  ${closeWait('tcpstate_remote_port_sockets', 'outbound')}\n)`;
  const accumulating = (severity: Severity, condition: string): AlertSpec => ({
    alert: 'TcpStateCloseWaitAccumulating',
    severity,
    expr: `${both}\n${condition}`,
    for: c.for,
    summary: 'Sockets pile up in CLOSE_WAIT: the application does not close them.',
    description:
      '{{ $labels.instance }} holds {{ $value }} sockets in CLOSE_WAIT ' +
      '{{ if eq $labels.direction "inbound" }}on its service port{{ else }}toward remote port{{ end }} ' +
      '{{ $labels.port }}: the peer closed them but the application never called close(). ' +
      'This is a socket leak that ends in file-descriptor exhaustion.',
  });
  return {
    name: 'tcpstate-connections',
    rules: [
      toRule(config, {
        alert: 'TcpStatePawsRejectsRising',
        severity: 'warning',
        expr: `sum without (stage) (rate(${series('tcpstate_paws_rejected_total', config.selector)}[${config.rateWindow}])) > ${config.paws.rejectsPerSecond}`,
        for: config.paws.for,
        summary: 'Segments are rejected because their TCP timestamps went backwards (PAWS).',
        description:
          '{{ $labels.instance }} rejects {{ $value | humanize }} segments/s (established, SYN-ACK and TIME_WAIT ' +
          'stages together) because their TCP timestamp is older than one already seen from that peer. Usually ' +
          'several clients share one NAT address with unrelated timestamp clocks; their connections stall or fail.',
      }),
      toRule(config, accumulating('warning', `> ${c.warningSockets} < ${c.criticalSockets}`)),
      toRule(config, accumulating('critical', `>= ${c.criticalSockets}`)),
    ],
  };
}

function exporterGroup(config: MixinConfig): RuleGroup {
  const c = config.exporter;
  const sel = config.selector;
  const up = series('up', sel);
  return {
    name: 'tcpstate-exporter',
    rules: [
      toRule(config, {
        alert: 'TcpStateCollectorFailing',
        severity: 'warning',
        expr: `${series('tcpstate_collector_success', sel)} == 0`,
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
        expr:
          // The age itself, not its recording, which another group's evaluation may leave
          // one interval behind.
          `time() - ${series('tcpstate_last_sample_timestamp_seconds', sel)}\n  > on (job, instance)\n` +
          `${c.staleIntervals} * ${series('tcpstate_sample_interval_seconds', sel)} + ${c.staleSlackSeconds}`,
        for: c.stalledFor,
        summary: 'The exporter serves old numbers: its last sample is stale.',
        description:
          "The exporter on {{ $labels.instance }} last sampled the kernel's tables {{ $value | humanizeDuration }} ago, " +
          `more than ${c.staleIntervals} sample intervals of ` +
          `{{ with printf \`tcpstate_sample_interval_seconds{job=%q,instance=%q}\` $labels.job $labels.instance | query }}{{ . | first | value | humanizeDuration }}{{ end }}; ` +
          'every number it serves is that old.',
      }),
      toRule(config, {
        // The kernel prints no malformed line; up to 1% of a table the exporter skips them and
        // serves short counts (beyond, the table fails: TcpStateCollectorFailing). Lines that
        // keep coming for 10 minutes are a damaged or foreign file, not a blip.
        alert: 'TcpStateMalformedLines',
        severity: 'warning',
        expr: `increase(${series('tcpstate_malformed_lines_total', sel)}[5m]) > 0`,
        for: '10m',
        summary:
          "The exporter skips malformed lines of the kernel's socket tables; its counts are short.",
        description:
          'The exporter on {{ $labels.instance }} skipped {{ $value | humanize }} malformed lines of ' +
          '/proc/net/{{ $labels.file }} in the last 5 minutes, and has for 10m: its socket counts are short by ' +
          'those sockets (fewer than 1% of the table; beyond that the table fails instead).',
      }),
    ],
  };
}

export function alertGroups(config: MixinConfig): RuleGroup[] {
  return [
    ephemeralGroup(config),
    podGroup(config),
    timeWaitGroup(config),
    listenerGroup(config),
    resourceGroup(config),
    connectionGroup(config),
    exporterGroup(config),
    conntrackGroup(config),
  ];
}

/** The recording rules first: the alerts of the same evaluation read what they record. */
export function ruleGroups(config: MixinConfig): RuleGroup[] {
  return [{ name: 'tcpstate-recording', rules: recordingRules(config) }, ...alertGroups(config)];
}

/** Used by the runbook and README checks: each alert once, with the severities it can have. */
export function alertSeverities(config: MixinConfig): Map<string, Set<Severity>> {
  const result = new Map<string, Set<Severity>>();
  for (const group of alertGroups(config)) {
    for (const rule of group.rules) {
      if (!isAlertingRule(rule)) continue;
      const severities = result.get(rule.alert) ?? new Set<Severity>();
      severities.add(rule.labels.severity);
      result.set(rule.alert, severities);
    }
  }
  return result;
}
