/**
 * Every other network namespace of the node (docs/namespaces.md): per namespace (identity
 * labels netns, pod, namespace, container) the node-level figures of sockets, the connect()
 * model, sysctls and kernel counters, and for the collector itself how many namespaces were
 * exported, dropped or failed. Its data is the latest round of its own worker and schedule,
 * attached to the snapshot on the main thread: a scrape never reads /proc.
 */
import { type Destination, FAMILIES, TCP_STATES } from '../snapshot/model.js';
import type { NamespaceSample, NetnsView } from '../snapshot/netns-view.js';
import type { NetstatCounters } from '../sources/netstat.js';
import {
  type ConstMetricDefinition,
  type ConstSample,
  defineCollector,
  sample,
} from './collector.js';
import { DESTINATION_LABELS, destinationSamples } from './ephemeral.js';
import { NAMESPACE_LABELS, type NamespaceLabels, namespaceLabels } from './namespace-labels.js';
import { kernelCounter } from './netstat.js';

function identity(ns: NamespaceSample): NamespaceLabels {
  return namespaceLabels(ns.inode, ns.owner);
}

/** A family with one series per exported namespace, or several (`labelNames` beyond identity). */
function perNamespace(
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  samples: (ns: NamespaceSample) => Iterable<ConstSample>,
  labelNames: readonly string[] = [],
): ConstMetricDefinition<NetnsView> {
  return {
    name,
    help,
    type,
    labelNames: [...NAMESPACE_LABELS, ...labelNames],
    *samples({ round }) {
      for (const ns of round.namespaces) {
        const labels = identity(ns);
        for (const one of samples(ns)) {
          yield sample(one.value, { ...labels, ...one.labels });
        }
      }
    },
  };
}

function single(value: number | undefined): ConstSample[] {
  return value === undefined ? [] : [sample(value)];
}

function perDestination(
  name: string,
  help: string,
  value: (destination: Destination) => number,
): ConstMetricDefinition<NetnsView> {
  return perNamespace(
    name,
    help,
    'gauge',
    (ns) => destinationSamples(ns.ephemeral, value),
    DESTINATION_LABELS,
  );
}

/** The node's counter of the same kernel field, per namespace. */
function namespaceCounter(
  counter: ConstMetricDefinition<NetstatCounters>,
): ConstMetricDefinition<NetnsView> {
  return perNamespace(counter.name, counter.help, 'counter', (ns) => counter.samples(ns.netstat));
}

const NAMESPACE_METRICS: readonly ConstMetricDefinition<NetnsView>[] = [
  {
    name: 'tcpstate_netns_info',
    help: 'One per exported network namespace: its owner (pod, namespace and container on Kubernetes, else the short container ID), full container ID and the comm of the process it was read through.',
    type: 'gauge',
    labelNames: [...NAMESPACE_LABELS, 'container_id', 'process'],
    samples: ({ round }) =>
      round.namespaces.map((ns) =>
        sample(1, { ...identity(ns), container_id: ns.owner.containerId, process: ns.process }),
      ),
  },
  perNamespace(
    'tcpstate_netns_sockets',
    'TCP sockets of the namespace by family and state (its net/tcp and net/tcp6); every combination is present, as in tcpstate_sockets.',
    'gauge',
    function* (ns) {
      for (const family of FAMILIES) {
        for (const state of TCP_STATES) yield sample(ns.states[family][state], { family, state });
      }
    },
    ['family', 'state'],
  ),
  perNamespace(
    'tcpstate_netns_sockstat_sockets',
    "The namespace's own TCP socket counts from its net/sockstat, read every round in O(1): inuse (TCP and TCP6, listeners included) and tw; inuse + tw bounds what any destination holds.",
    'gauge',
    (ns) =>
      ns.sockstat === undefined
        ? []
        : [sample(ns.sockstat.inuse, { kind: 'inuse' }), sample(ns.sockstat.tw, { kind: 'tw' })],
    ['kind'],
  ),
  perNamespace(
    'tcpstate_netns_last_walk_timestamp_seconds',
    "Unix time of the latest walk of the namespace's socket tables, which its sockets and destinations families show; between walks its ephemeral-port figures are bounded by its sockstat (docs/namespaces.md).",
    'gauge',
    (ns) => single(ns.walkTimestampMs / 1000),
  ),
  perNamespace(
    'tcpstate_netns_ephemeral_ports_usable',
    'Ephemeral ports connect() examines in the namespace: its own ip_local_port_range minus reserved and listening ports (as tcpstate_ephemeral_ports_usable).',
    'gauge',
    (ns) => single(ns.ephemeral.usable),
  ),
  perNamespace(
    'tcpstate_netns_ephemeral_ports_used_max',
    "The namespace's worst destination's ports that block connect(): usable - used_max further connect()s to it succeed.",
    'gauge',
    (ns) => single(ns.ephemeral.usedMax),
  ),
  perNamespace(
    'tcpstate_netns_ephemeral_ports_held',
    'Distinct usable ephemeral ports held in the namespace by any socket but a listener.',
    'gauge',
    (ns) => single(ns.ephemeral.held),
  ),
  perNamespace(
    'tcpstate_netns_ephemeral_port_headroom_ratio',
    "Share of the namespace's usable ephemeral ports still free toward its most used destination: 1 - used_max / usable.",
    'gauge',
    (ns) => single(ns.ephemeral.headroomRatio),
  ),
  perDestination(
    'tcpstate_netns_ephemeral_ports_used',
    'Ephemeral ports connect() cannot use toward one destination of the namespace; its --collector.netns.top-destinations destinations with most.',
    (destination) => destination.used,
  ),
  perDestination(
    'tcpstate_netns_ephemeral_ports_time_wait',
    'TIME_WAIT sockets toward each destination of tcpstate_netns_ephemeral_ports_used, reusable or not.',
    (destination) => destination.timeWait,
  ),
  perDestination(
    'tcpstate_netns_ephemeral_port_hold_seconds',
    'How long a connection the namespace closes first keeps its port from connect() toward the destination: its tcp_tw_reuse_delay when reuse applies (1 before 6.14), else 60.',
    (destination) => destination.holdSeconds,
  ),
  perNamespace(
    'tcpstate_netns_sysctl',
    "The namespace's own TCP sysctls the connect() model uses, by dotted name (ip_local_port_range as .low and .high); see tcpstate_netns_sysctls_assumed.",
    'gauge',
    (ns) =>
      Object.keys(ns.sysctls)
        .sort()
        .map((name) => sample(ns.sysctls[name] ?? Number.NaN, { name })),
    ['name'],
  ),
  perNamespace(
    'tcpstate_netns_sysctls_assumed',
    "1 when the namespace's sysctls could not be read (no CAP_SYS_ADMIN to enter it) and a new namespace's kernel defaults were used instead, else 0.",
    'gauge',
    (ns) => single(ns.sysctlsAssumed ? 1 : 0),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_timewait_finished_total',
      'Sockets put into TIME_WAIT in the namespace',
      'tcpExt',
      'TW',
    ),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_timewait_reused_total',
      'TIME_WAIT 4-tuples reused by connect() in the namespace',
      'tcpExt',
      'TWRecycled',
    ),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_timewait_killed_total',
      'TIME_WAIT sockets given a short timeout in the namespace',
      'tcpExt',
      'TWKilled',
    ),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_timewait_overflows_total',
      'TIME_WAIT sockets destroyed at tcp_max_tw_buckets in the namespace',
      'tcpExt',
      'TCPTimeWaitOverflow',
    ),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_listen_overflows_total',
      'Connections dropped because a listen queue was full in the namespace',
      'tcpExt',
      'ListenOverflows',
    ),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_listen_drops_total',
      'Connection requests dropped by listeners in the namespace',
      'tcpExt',
      'ListenDrops',
    ),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_active_opens_total',
      'Connections opened by connect() in the namespace',
      'tcp',
      'ActiveOpens',
    ),
  ),
  namespaceCounter(
    kernelCounter(
      'tcpstate_netns_attempt_fails_total',
      'Connection attempts that failed before ESTABLISHED in the namespace',
      'tcp',
      'AttemptFails',
    ),
  ),
];

/** Collector-level families: no identity labels. */
const ROUND_METRICS: readonly ConstMetricDefinition<NetnsView>[] = [
  {
    name: 'tcpstate_netns_namespaces',
    help: "Network namespaces in the latest round (the node's own left out) by outcome: exported, dropped (beyond --collector.netns.max, most sockets first), failed (the process read exited mid-round).",
    type: 'gauge',
    labelNames: ['outcome'],
    samples: ({ round }) => [
      sample(round.namespaces.length, { outcome: 'exported' }),
      sample(round.dropped, { outcome: 'dropped' }),
      sample(round.failures.length, { outcome: 'failed' }),
    ],
  },
  {
    name: 'tcpstate_netns_read_failures_total',
    help: 'Namespaces that could not be read in a round since start (their process exited mid-round).',
    type: 'counter',
    samples: ({ readFailures }) => [sample(readFailures)],
  },
  {
    name: 'tcpstate_netns_last_round_timestamp_seconds',
    help: 'Unix time at which the latest round over the namespaces started (--collector.netns.interval).',
    type: 'gauge',
    samples: ({ round }) => [sample(round.timestampMs / 1000)],
  },
  {
    name: 'tcpstate_netns_round_walks',
    help: 'Namespaces whose socket tables the latest round walked (each walk reads the whole socket hash); the others kept their last walk, bounded by their sockstat.',
    type: 'gauge',
    samples: ({ round }) => [sample(round.walked)],
  },
  {
    name: 'tcpstate_netns_round_deferred_walks',
    help: 'Walks the latest round left to the next one because it had run 10 s: namespaces not walked yet are missing from the round until then, the others keep their sockstat bounds.',
    type: 'gauge',
    samples: ({ round }) => [sample(round.deferred)],
  },
  {
    name: 'tcpstate_netns_round_duration_seconds',
    help: 'Time the latest round over the namespaces took.',
    type: 'gauge',
    samples: ({ round }) => [sample(round.durationSeconds)],
  },
];

const DAY_MS = 24 * 3_600_000;

export const netnsCollector = defineCollector({
  name: 'netns',
  help: 'Every other network namespace on the node (each pod), on its own schedule: sockets, ephemeral-port headroom, sysctls and counters per namespace, labelled with its pod and container.',
  enabledByDefault: false,
  // Not the node sample's: its own worker reads <procfs>/<pid> of every namespace.
  sources: [],
  flags: {
    netnsIntervalMs: {
      name: 'collector.netns.interval',
      kind: 'duration',
      // docs/benchmarks.md: 100 namespaces of 10k sockets cost ~1 s of CPU a round, 1.6 % of a core at 60 s.
      default: 60_000,
      max: DAY_MS,
      maxReason: 'a round may run 6 intervals, within what timers hold',
      help: 'Time between two rounds over the namespaces (each reads the whole socket hash once per namespace; docs/namespaces.md).',
    },
    netnsMax: {
      name: 'collector.netns.max',
      kind: 'positiveInteger',
      default: 100,
      max: 1000,
      maxReason: 'each namespace adds up to 45 + 3 x top-destinations series',
      help: 'Namespaces exported, most sockets first; the rest are dropped and counted.',
    },
    netnsTopDestinations: {
      name: 'collector.netns.top-destinations',
      kind: 'positiveInteger',
      default: 3,
      max: 100,
      maxReason: 'each destination adds 3 series per namespace',
      help: 'Destinations per namespace in tcpstate_netns_ephemeral_ports_used (most used first).',
    },
    netnsWalkMaxAgeMs: {
      name: 'collector.netns.walk-max-age',
      kind: 'duration',
      default: 300_000,
      max: DAY_MS,
      maxReason: "a namespace's states and destinations would be older than a day",
      help: "Longest time a namespace's socket tables go unwalked; between walks its sockstat bounds its ephemeral-port figures (docs/namespaces.md).",
    },
    netnsSysctlRefreshMs: {
      name: 'collector.netns.sysctl-refresh',
      kind: 'duration',
      default: 60_000,
      max: DAY_MS,
      maxReason: 'a namespace changes its sysctls rarely, and is read again when seen anew',
      help: 'How often the sysctls of a namespace, read by entering it (here or with --path.procfs=/proc/<pid>), are read again.',
    },
    podLogsDir: {
      name: 'path.pod-logs',
      kind: 'string',
      default: '/var/log',
      placeholder: 'DIR',
      help: "Holds the kubelet's pods/ and containers/ log directories, which name the pod and container of a namespace.",
    },
  },
  select: (snapshot): NetnsView | undefined =>
    snapshot.netns?.round.error === undefined ? snapshot.netns : undefined,
  missingReason: (snapshot) => snapshot.netns?.round.error ?? 'no round over the namespaces yet',
  durationSeconds: (snapshot) => snapshot.netns?.round.durationSeconds,
  metrics: [...NAMESPACE_METRICS, ...ROUND_METRICS],
});
