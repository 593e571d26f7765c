/**
 * Alerting rules. Each alert carries the labels an operator needs to act (the instance, the
 * network namespace and its pod, and the destination, port or stage where one applies) and
 * links to its runbook section. Every expression keeps the cluster, group and instance labels
 * (config.clusterLabel, groupLabels, instanceLabels) and the namespace labels, so neither
 * exporters (even where the clusters of a fleet meet in one Prometheus) nor namespaces add up,
 * and compares series of one namespace of one exporter only: one alert covers the host and
 * every pod (--collector.netns), and a pod's names its pod. Thresholds and their reasons:
 * mixin/config.ts.
 *
 * A warning and the critical above it overlap (`>= warning` and `>= critical`, no upper
 * bound): a figure that moves between the levels keeps at least one of them held, and
 * Alertmanager's inhibit rules (deploy/compose/alertmanager.yml) mute the warning while the
 * critical fires. Gauges are read through a windowed maximum so a condition that flaps from
 * one scrape to the next stays held (config.flapWindow).
 */
import type { Duration, MixinConfig } from './config.js';
import { connectErrorsGroup } from './connect-errors-alerts.js';
import { conntrackGroup } from './conntrack-alerts.js';
import { counterGroup } from './counter-alerts.js';
import {
  byHost,
  DESTINATION_TEMPLATE,
  hostLabels,
  labelQueryTemplate,
  NAMESPACE_LABELS,
  onHost,
  onNamespace,
  series,
  whereTemplate,
} from './promql.js';
import { RECORDED, type RecordingRule, recordingRules, sysctlSeries } from './recording.js';

/** `info`: worth knowing, never worth waking anyone (routed to a ticket or dashboard). */
export type Severity = 'critical' | 'warning' | 'info';

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: Duration;
  readonly keep_firing_for?: Duration;
  readonly labels: { readonly severity: Severity };
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
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
    // A page that resolves at each dip and fires again is one outage told many times.
    ...(spec.severity === 'critical' ? { keep_firing_for: config.keepFiringFor } : {}),
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
export function instanceValueTemplate(
  config: MixinConfig,
  metric: string,
  ...matchers: readonly string[]
): string {
  return labelValueTemplate(metric, matchers, hostLabels(config));
}

/** The same for the alert's network namespace: its exporter and its `netns` label. */
function namespaceValueTemplate(
  config: MixinConfig,
  metric: string,
  ...matchers: readonly string[]
): string {
  return labelValueTemplate(metric, matchers, [...hostLabels(config), 'netns']);
}

function labelValueTemplate(
  metric: string,
  matchers: readonly string[],
  labels: readonly string[],
): string {
  return `{{ with ${labelQueryTemplate(`${metric}{${matcherList(matchers, labels)}}`, labels)} }}{{ . | first | value | printf "%.0f" }}{{ end }}`;
}

/** Matchers plus one `label=%q` per label, for printf. */
function matcherList(matchers: readonly string[], labels: readonly string[]): string {
  return [...matchers, ...labels.map((label) => `${label}=%q`)].join(',');
}

/**
 * `printf \`query\` $labels.a $labels.b | query`: the query with each `%q` filled from the
 * alert's labels, in order. A label the alert lacks is empty, and `label=""` matches series
 * without it, so a Prometheus without a cluster label runs the same template.
 */

/** The highest value of `expr` over the flap window: held while it touches the level. */
function windowMax(config: MixinConfig, expr: string): string {
  return `max_over_time(${expr}[${config.flapWindow}])`;
}

function windowMin(config: MixinConfig, expr: string): string {
  return `min_over_time(${expr}[${config.flapWindow}])`;
}

/**
 * connect() fails at 100 %, and at the limit ports are freed and retaken at once: the share
 * touched all ports within the window and is still at the floor now. One sample at 100 %
 * among lower ones is a burst, not held for `for`.
 */
function exhaustedExpr(config: MixinConfig, ratio: string): string {
  return `${windowMax(config, ratio)} >= 1\nand\n${ratio} >= ${config.ephemeral.exhaustedFloorRatio}`;
}

function ephemeralGroup(config: MixinConfig): RuleGroup {
  const c = config.ephemeral;
  const sel = config.selector;
  const ratio = series(RECORDED.ephemeralUsedRatio, sel);
  const usable = series('tcpstate_ephemeral_ports_usable', sel);
  const usableCount = namespaceValueTemplate(config, 'tcpstate_ephemeral_ports_usable');
  const namespaceLabelsOf = [...hostLabels(config), 'netns'];
  const busiest = labelQueryTemplate(
    `topk(1, tcpstate_ephemeral_ports_used{${matcherList([], namespaceLabelsOf)}})`,
    namespaceLabelsOf,
  );
  const blocking =
    'sockets that block connect() to it (TIME_WAIT that tcp_tw_reuse can take over is not counted)';
  return {
    name: 'tcpstate-ephemeral-ports',
    rules: [
      toRule(config, {
        alert: 'TcpStateEphemeralPortsExhausted',
        severity: 'critical',
        expr: exhaustedExpr(config, ratio),
        for: c.exhaustedFor,
        summary: 'connect() to one destination fails: no usable ephemeral port is left toward it.',
        description:
          `${whereTemplate(config)}: all ${usableCount} usable ephemeral ports toward ${DESTINATION_TEMPLATE} ` +
          `are held by ${blocking}. New connect() calls to this destination fail with EADDRNOTAVAIL ` +
          '("Cannot assign requested address") and proxies answer 502.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortsNearlyExhausted',
        severity: 'critical',
        // No upper bound: an exhaustion that dips below 100 % between bursts still pages here.
        expr: `${windowMax(config, ratio)} >= ${c.criticalRatio}`,
        for: c.criticalFor,
        summary:
          'Almost no ephemeral ports are left toward one destination: connect() fails at the next burst.',
        description:
          `${whereTemplate(config)}: up to {{ $value | humanizePercentage }} of the ${usableCount} usable ephemeral ` +
          `ports toward ${DESTINATION_TEMPLATE} were held by ${blocking} in the last ${config.flapWindow}. A burst ` +
          'of new connections exhausts the rest, and then connect() to this destination fails with EADDRNOTAVAIL.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortsUnusable',
        severity: 'critical',
        expr: `${windowMin(config, usable)} == 0`,
        for: c.unusableFor,
        summary: 'No ephemeral port is usable at all: every connect() without bind() fails.',
        description:
          `${whereTemplate(config)} had no usable ephemeral port in the last ${config.flapWindow}: net.ipv4.ip_local_reserved_ports covers the whole ` +
          'net.ipv4.ip_local_port_range. Every connect() that does not bind a port first fails with EADDRNOTAVAIL.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortHeadroomLow',
        severity: 'warning',
        expr: `${windowMin(config, series('tcpstate_ephemeral_port_headroom_ratio', sel))} <= ${round(1 - c.warningRatio)}`,
        for: c.headroomLowFor,
        summary:
          'Fewer than half the usable ephemeral ports are left toward the busiest destination.',
        description:
          `${whereTemplate(config)} had as little as {{ $value | humanizePercentage }} of its ` +
          `${usableCount} usable ephemeral ports left toward its busiest destination` +
          `{{ range ${busiest} }} ` +
          '({{ .Labels.remote_address }} port {{ .Labels.remote_port }} from local address {{ .Labels.local_address }}, ' +
          '{{ .Value | printf "%.0f" }} ports blocked){{ end }}.',
      }),
      toRule(config, {
        alert: 'TcpStateEphemeralPortsHeldHigh',
        severity: 'warning',
        // As doctor: when one destination holds every held port, the exhaustion alerts tell it.
        expr:
          `${windowMax(config, series(RECORDED.ephemeralHeldRatio, sel))} >= ${c.heldWarningRatio}\nand ${onNamespace(config)}\n` +
          `${series('tcpstate_ephemeral_ports_held', sel)} > ${series('tcpstate_ephemeral_ports_used_max', sel)}`,
        for: c.heldFor,
        summary:
          'Most ephemeral ports are held: clients that bind() before connect() are near their limit.',
        description:
          `${whereTemplate(config)}: up to {{ $value | humanizePercentage }} of its ` +
          `${usableCount} usable ephemeral ports are held by some socket. A client that binds its local ` +
          'address before connect() (Go Dialer.LocalAddr, Java bind(addr, 0), Python source_address) needs a ' +
          'port free toward every destination at once, and fails with EADDRINUSE when none is.',
      }),
    ],
  };
}

/**
 * The netns collector's own health (`--collector.netns`): what it says about every pod at
 * once. A pod's ports, TIME_WAIT and queues are the node's alerts with the pod's labels.
 */
function netnsGroup(config: MixinConfig): RuleGroup {
  const sel = config.selector;
  return {
    name: 'tcpstate-netns',
    rules: [
      toRule(config, {
        alert: 'TcpStateNetnsRoundStalled',
        severity: 'warning',
        expr: `time() - ${series('tcpstate_netns_last_round_timestamp_seconds', sel)} > ${config.pods.roundStaleSeconds}`,
        for: config.pods.roundStalledFor,
        summary: 'Pods’ TCP figures are frozen: the round over the network namespaces has stalled.',
        description:
          'The exporter on {{ $labels.instance }} started its last round over the network namespaces ' +
          '{{ $value | humanizeDuration }} ago: every figure of a pod it serves is that old, and no alert on a ' +
          'pod can fire or resolve.',
      }),
      toRule(config, {
        alert: 'TcpStateSysctlsAssumed',
        severity: 'info',
        // One alert per node: the usual cause, a missing capability, is the node's, not a pod's.
        expr: `count ${byHost(config)} (${series('tcpstate_sysctls_assumed', sel)} == 1) > 0`,
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
        expr: `sum without (outcome) (${windowMax(config, series('tcpstate_netns_namespaces', sel, 'outcome="dropped"'))}) > 0`,
        for: config.pods.droppedFor,
        summary:
          'Some pods have no TCP figures: the node has more namespaces than --collector.netns.max.',
        description:
          'The exporter on {{ $labels.instance }} leaves {{ $value }} network namespaces out, beyond the ' +
          `${instanceValueTemplate(config, 'tcpstate_netns_namespaces', 'outcome="exported"')} it exports ` +
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
  const limit = namespaceValueTemplate(
    config,
    'tcpstate_sysctl',
    'name="net.ipv4.tcp_max_tw_buckets"',
  );
  return {
    name: 'tcpstate-time-wait',
    rules: [
      toRule(config, {
        alert: 'TcpStateTimeWaitNearBucketLimit',
        severity: 'warning',
        expr: `${windowMax(config, ratio)} >= ${c.bucketWarningRatio}`,
        for: c.bucketFor,
        summary: 'TIME_WAIT sockets are close to net.ipv4.tcp_max_tw_buckets.',
        description:
          `${whereTemplate(config)} holds up to {{ $value | humanizePercentage }} of net.ipv4.tcp_max_tw_buckets (${limit}) ` +
          'in TIME_WAIT (sockstat tw, the count the kernel compares with the limit). Above the limit the kernel ' +
          'closes new connections without TIME_WAIT: their ports are free at once, but late segments are no ' +
          'longer caught.',
      }),
      toRule(config, {
        alert: 'TcpStateTimeWaitOverflow',
        severity: 'warning',
        expr: `increase(${series('tcpstate_timewait_overflows_total', config.selector)}[${c.overflowWindow}]) > 0`,
        summary: 'The kernel destroys TIME_WAIT sockets: net.ipv4.tcp_max_tw_buckets is reached.',
        description:
          `${whereTemplate(config)} dropped {{ $value | humanize }} TIME_WAIT sockets in the last ${c.overflowWindow} ` +
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
  const syncookies = sysctlSeries(config, 'net.ipv4.tcp_syncookies');
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
          `${whereTemplate(config)} drops {{ $value | humanize }} incoming connections/s because the accept ` +
          'queue of a listening socket is full: the application does not accept() fast enough or its backlog is too small.',
      }),
      toRule(config, {
        alert: 'TcpStateListenQueueFull',
        severity: 'warning',
        // /proc/net/tcp shows a listener's queue length, not its limit. A queue that drops is
        // at its limit at every sample; a busy one empties between them. Of those never empty,
        // the longest is named.
        expr: [
          `topk ${byHost(config, ...NAMESPACE_LABELS)} (1, min_over_time(${series('tcpstate_listen_queue_length', sel)}[${window}]) > 0)`,
          `and ${onNamespace(config)}`,
          `${rate('tcpstate_listen_overflows_total')} > ${c.overflowsPerSecond}`,
        ].join('\n'),
        for: c.queueFullFor,
        summary:
          'A listening port’s accept queue overflows: its program does not accept() in time.',
        description:
          `${whereTemplate(config)}: at least {{ $value }} connections waited at every sample of the last ` +
          `${window} in the accept queue of port {{ $labels.port }}, the longest such queue, while the same network namespace drops ` +
          'connections at full accept queues: that program does not accept() in time, or its backlog is too small.',
      }),
      toRule(config, {
        alert: 'TcpStateSynQueueOverflowing',
        severity: 'warning',
        expr: `${rate('tcpstate_syn_queue_full_drops_total')} > ${config.synQueue.dropsPerSecond}`,
        for: config.synQueue.for,
        summary:
          'Connection attempts are dropped: the SYN queue is full and SYN cookies cannot help.',
        description:
          `${whereTemplate(config)} drops {{ $value | humanize }} SYNs/s because a listener’s SYN queue is full ` +
          'and no SYN cookie was sent (net.ipv4.tcp_syncookies off, or the queue is full of cookies too). ' +
          'Clients retry after a second or more, or fail.',
      }),
      toRule(config, {
        alert: 'TcpStateSynCookiesSent',
        severity: 'warning',
        expr: [
          `${rate('tcpstate_syncookies_sent_total')} > ${config.synQueue.cookiesPerSecond}`,
          'and',
          `${rate('tcpstate_syncookies_sent_total')}\n  > ${config.synQueue.cookiesSurgeFactor} * rate(${series('tcpstate_syncookies_sent_total', sel)}[${config.synQueue.cookiesBaseline}])`,
          // tcp_syncookies=2 sends a cookie for every SYN: no queue is involved.
          `unless ${onNamespace(config)}\n${syncookies} == 2`,
        ].join('\n'),
        for: config.synQueue.for,
        summary: 'A SYN queue overflows far more than usual: the kernel answers with SYN cookies.',
        description:
          `${whereTemplate(config)} sends {{ $value | humanize }} SYN cookies/s, over ${config.synQueue.cookiesSurgeFactor} ` +
          `times its rate of the last ${config.synQueue.cookiesBaseline}: a listener’s SYN queue is full, from a SYN ` +
          'flood or a backlog too small for the load. Connections still open, but without the TCP options a ' +
          'cookie cannot carry when timestamps are off.',
      }),
    ],
  };
}

function resourceGroup(config: MixinConfig): RuleGroup {
  const sel = config.selector;
  const c = config.memory;
  const maxOrphans = namespaceValueTemplate(
    config,
    'tcpstate_sysctl',
    'name="net.ipv4.tcp_max_orphans"',
  );
  const memPages = series('tcpstate_sockstat_memory_pages', sel);
  const namespaceLabels = NAMESPACE_LABELS.join(', ');
  const orphans = (severity: Severity, level: number): AlertSpec => ({
    alert: 'TcpStateOrphansNearLimit',
    severity,
    expr: `${windowMax(config, series(RECORDED.orphansRatio, sel))} >= ${level}`,
    for: config.orphans.for,
    summary: 'Orphaned TCP sockets approach net.ipv4.tcp_max_orphans.',
    description:
      '{{ $labels.instance }} holds orphaned sockets (closed by their program, still closing in TCP) ' +
      `at up to {{ $value | humanizePercentage }} of net.ipv4.tcp_max_orphans (${maxOrphans}). The kernel ` +
      'weighs an orphan that stopped sending, or has a soft error, double (both: four times), so it resets such ' +
      'connections from a quarter of the limit on ("too many orphaned sockets"), and more of them from half.',
  });
  return {
    name: 'tcpstate-kernel-resources',
    rules: [
      toRule(config, orphans('warning', config.orphans.warningRatio)),
      toRule(config, orphans('critical', config.orphans.criticalRatio)),
      toRule(config, {
        alert: 'TcpStateMemoryPressure',
        severity: 'warning',
        expr: [
          // The pressure is the node's: one alert per node, whichever namespace's socket
          // entered it (each entry is counted in that namespace, so the node's are the sum).
          `max without (${namespaceLabels}) (${windowMax(config, memPages)} >= ignoring (name) ${sysctlSeries(config, 'net.ipv4.tcp_mem.pressure')})`,
          `or ${onHost(config)}`,
          `sum without (${namespaceLabels}) (increase(${series('tcpstate_memory_pressures_total', sel)}[${c.entriesWindow}])) >= ${c.pressureEntries}`,
        ].join('\n'),
        for: c.pressureFor,
        summary: 'TCP is in memory pressure: the kernel shrinks socket buffers.',
        description:
          '{{ $labels.instance }}: TCP memory is at the pressure level of net.ipv4.tcp_mem (host-wide), ' +
          `or TCP entered memory pressure ${c.pressureEntries} times or more in ${c.entriesWindow}, for ${c.pressureFor}. ` +
          'The kernel shrinks socket buffers, so throughput falls.',
      }),
      toRule(config, {
        alert: 'TcpStateMemoryExhausted',
        severity: 'critical',
        expr: `${windowMax(config, memPages)} >= ignoring (name) ${sysctlSeries(config, 'net.ipv4.tcp_mem.max')}`,
        for: c.exhaustedFor,
        summary: 'TCP memory is exhausted: the kernel drops data and aborts connections.',
        description:
          '{{ $labels.instance }}: TCP buffers reached net.ipv4.tcp_mem’s maximum (host-wide). The kernel drops ' +
          'incoming data and aborts connections it cannot give memory to.',
      }),
      toRule(config, {
        alert: 'TcpStateMemoryAborts',
        severity: 'warning',
        expr: `rate(${series('tcpstate_memory_aborts_total', sel)}[${config.rateWindow}]) > 0`,
        for: c.abortsFor,
        summary: 'The kernel keeps aborting connections for lack of memory or too many orphans.',
        description:
          `${whereTemplate(config)} aborts {{ $value | printf "%.2f" }} connections/s (TCPAbortOnMemory): TCP memory ` +
          'ran short, or orphaned sockets were killed past net.ipv4.tcp_max_orphans.',
      }),
    ],
  };
}

function connectionGroup(config: MixinConfig): RuleGroup {
  const sel = config.selector;
  return {
    name: 'tcpstate-connections',
    rules: [
      toRule(config, {
        alert: 'TcpStatePawsRejectsRising',
        severity: 'warning',
        // Old ACKs are harmless reordering (Linux 6.14 counts them apart for that reason).
        expr: `sum without (stage) (rate(${series('tcpstate_paws_rejected_total', sel, 'stage!="old_ack"')}[${config.rateWindow}])) > ${config.paws.rejectsPerSecond}`,
        for: config.paws.for,
        summary: 'Segments are rejected because their TCP timestamps went backwards (PAWS).',
        description:
          `${whereTemplate(config)} rejects {{ $value | humanize }} segments/s (established, SYN-ACK and TIME_WAIT ` +
          'stages together; old ACKs left out) because their TCP timestamp is older than one already seen from ' +
          'that peer. Usually several clients share one NAT address with unrelated timestamp clocks; their ' +
          'connections stall or fail.',
      }),
      toRule(config, {
        alert: 'TcpStateCloseWaitStuck',
        severity: 'warning',
        // port="other" included: a leak on a port beyond the top ones is still a leak.
        expr: `${windowMax(config, series('tcpstate_close_wait_stuck_sockets', sel))} >= ${config.closeWaitStuck.sockets}`,
        for: config.closeWaitStuck.for,
        summary: 'Sockets stay in CLOSE_WAIT: the program never closes them.',
        description:
          '{{ $labels.instance }} holds up to {{ $value }} sockets that stayed in CLOSE_WAIT past the exporter’s ' +
          '--collector.ports.close-wait-stuck-after ' +
          '{{ if eq $labels.direction "inbound" }}on its service port{{ else }}toward remote port{{ end }} ' +
          '{{ $labels.port }}: the peer closed them and the program never called close(). A leak ends in ' +
          'file-descriptor exhaustion; a pool that keeps dead connections fails its next request on each.',
      }),
      toRule(config, {
        alert: 'TcpStateSynSentPileUp',
        severity: 'warning',
        expr: `${windowMax(config, series('tcpstate_remote_port_sockets', sel, 'state="syn_sent"', 'port!="other"'))} >= ${config.synSent.sockets}`,
        for: config.synSent.for,
        summary:
          'Connections toward one remote port hang in SYN_SENT: the upstream does not answer.',
        description:
          '{{ $labels.instance }} has up to {{ $value }} connections stuck in SYN_SENT toward remote port ' +
          '{{ $labels.port }}: SYNs go unanswered (the upstream is down, or a firewall drops them), and each ' +
          'connect() waits through its retries (about 2 minutes) before it fails.',
      }),
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
          `time() - ${series('tcpstate_last_sample_timestamp_seconds', sel)}\n  > ${onHost(config)}\n` +
          `${c.staleIntervals} * ${series('tcpstate_sample_interval_seconds', sel)} + ${c.staleSlackSeconds}`,
        for: c.stalledFor,
        summary: 'The exporter serves old numbers: its last sample is stale.',
        description:
          "The exporter on {{ $labels.instance }} last sampled the kernel's tables {{ $value | humanizeDuration }} ago, " +
          `more than ${c.staleIntervals} sample intervals of ` +
          `{{ with ${labelQueryTemplate(`tcpstate_sample_interval_seconds{${matcherList([], hostLabels(config))}}`, hostLabels(config))} }}{{ . | first | value | humanizeDuration }}{{ end }}; ` +
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
    netnsGroup(config),
    timeWaitGroup(config),
    listenerGroup(config),
    resourceGroup(config),
    connectionGroup(config),
    exporterGroup(config),
    conntrackGroup(config),
    connectErrorsGroup(config),
    counterGroup(config),
  ];
}

/** The recording rules first: the alerts of the same evaluation read what they record. */
export function ruleGroups(config: MixinConfig): RuleGroup[] {
  return [recordingGroup(config), ...alertGroups(config)];
}

export function recordingGroup(config: MixinConfig): RuleGroup {
  return { name: 'tcpstate-recording', rules: recordingRules(config) };
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
