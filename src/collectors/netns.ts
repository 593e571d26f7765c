/**
 * Every other network namespace of the node (docs/namespaces.md). Its figures of sockets,
 * the connect() model, sysctls and kernel counters are series of the node's own families,
 * labelled by namespace (each collector's selectNamespace); here only what exists for
 * namespaces alone: each one's owner and last walk, and how many were exported, dropped
 * or failed. Its data is the latest round of its own worker and schedule,
 * attached to the snapshot on the main thread: a scrape never reads /proc.
 */
import type { NamespaceSample, NetnsView } from '../snapshot/netns-view.js';
import { errorOf, resultOf, scheduledSource } from '../sources/scheduled-source.js';
import { type ConstMetricDefinition, defineCollector, labelled } from './collector.js';
import { NAMESPACE_LABELS, type NamespaceLabels, namespaceLabels } from './namespace-labels.js';

/** The rounds over the namespaces, in their own worker every --collector.netns.interval. */
export const NETNS_ROUNDS = scheduledSource<NetnsView>(
  'netns-rounds',
  { kind: 'interval', flag: 'netnsIntervalMs' },
  // --once runs one round in its own thread.
  true,
);

function identity(ns: NamespaceSample): NamespaceLabels {
  return namespaceLabels(ns.inode, ns.owner);
}

/**
 * The facts only a namespace has: its figures of the node's own quantities are series of the
 * node's families (selectNamespace of each collector), not restated here.
 */
const NAMESPACE_METRICS: readonly ConstMetricDefinition<NetnsView>[] = [
  {
    name: 'tcpstate_netns_info',
    help: 'One per exported network namespace: its owner (pod, namespace and container on Kubernetes, else the short container ID), full container ID and the comm of the process it was read through.',
    type: 'gauge',
    labelNames: [...NAMESPACE_LABELS, 'container_id', 'process'],
    values: ({ round }) =>
      round.namespaces.map((ns) =>
        labelled(1, { ...identity(ns), container_id: ns.owner.containerId, process: ns.process }),
      ),
  },
  {
    name: 'tcpstate_netns_last_walk_timestamp_seconds',
    help: "Unix time of the latest walk of the namespace's socket tables, which its tcpstate_sockets and destination series show; between walks its ephemeral-port figures are bounded by its sockstat (docs/namespaces.md).",
    type: 'gauge',
    labelNames: NAMESPACE_LABELS,
    values: ({ round }) =>
      round.namespaces.map((ns) => labelled(ns.walkTimestampMs / 1000, identity(ns))),
  },
];

/** Collector-level families: no identity labels. */
const ROUND_METRICS: readonly ConstMetricDefinition<NetnsView>[] = [
  {
    name: 'tcpstate_netns_namespaces',
    help: "Network namespaces in the latest round (the node's own left out) by outcome: exported, dropped (beyond --collector.netns.max, most sockets first), failed (the process read exited mid-round).",
    type: 'gauge',
    labelNames: ['outcome'],
    values: ({ round }) => [
      labelled(round.namespaces.length, { outcome: 'exported' }),
      labelled(round.dropped, { outcome: 'dropped' }),
      labelled(round.failures.length, { outcome: 'failed' }),
    ],
  },
  {
    name: 'tcpstate_netns_read_failures_total',
    help: 'Namespaces that could not be read in a round since start (their process exited mid-round).',
    type: 'counter',
    values: ({ readFailures }) => [labelled(readFailures)],
  },
  {
    name: 'tcpstate_netns_last_round_timestamp_seconds',
    help: 'Unix time at which the latest round over the namespaces started (--collector.netns.interval).',
    type: 'gauge',
    values: ({ round }) => [labelled(round.timestampMs / 1000)],
  },
  {
    name: 'tcpstate_netns_round_walks',
    help: 'Namespaces whose socket tables the latest round walked (each walk reads the whole socket hash); the others kept their last walk, bounded by their sockstat.',
    type: 'gauge',
    values: ({ round }) => [labelled(round.walked)],
  },
  {
    name: 'tcpstate_netns_round_deferred_walks',
    help: 'Walks the latest round left to the next one because it had run 10 s: namespaces not walked yet are missing from the round until then, the others keep their sockstat bounds.',
    type: 'gauge',
    values: ({ round }) => [labelled(round.deferred)],
  },
  {
    name: 'tcpstate_netns_round_duration_seconds',
    help: 'Time the latest round over the namespaces took.',
    type: 'gauge',
    values: ({ round }) => [labelled(round.durationSeconds)],
  },
];

const DAY_MS = 24 * 3_600_000;

export const netnsCollector = defineCollector({
  name: 'netns',
  help: 'Every other network namespace on the node (each pod), on its own schedule: sockets, ephemeral-port headroom, sysctls and counters per namespace, labelled with its pod and container.',
  enabledByDefault: false,
  // Not the node sample's: its own worker reads <procfs>/<pid> of every namespace.
  sources: [NETNS_ROUNDS],
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
      maxReason: 'each namespace adds up to 72 + 3 x top-destinations series',
      help: 'Namespaces exported, most sockets first; the rest are dropped and counted.',
    },
    netnsTopDestinations: {
      name: 'collector.netns.top-destinations',
      kind: 'positiveInteger',
      default: 3,
      max: 100,
      maxReason: 'each destination adds 3 series per namespace',
      help: 'Destinations per namespace in tcpstate_ephemeral_ports_used{netns!=""} (most used first).',
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
  select: (snapshot): NetnsView | undefined => {
    const view = resultOf(snapshot.scheduled, NETNS_ROUNDS);
    return view?.round.error === undefined ? view : undefined;
  },
  missingReason: (snapshot) =>
    errorOf(snapshot.scheduled, NETNS_ROUNDS) ??
    resultOf(snapshot.scheduled, NETNS_ROUNDS)?.round.error ??
    'no round over the namespaces yet',
  durationSeconds: (snapshot) => resultOf(snapshot.scheduled, NETNS_ROUNDS)?.round.durationSeconds,
  metrics: [...NAMESPACE_METRICS, ...ROUND_METRICS],
});
