/**
 * Conntrack's entries, its limit and its event counters (docs/conntrack.md): the node's,
 * and with --collector.netns each namespace's, labelled as namespace-labels.ts says.
 */
import type { NamespaceSample } from '../snapshot/netns-view.js';
import {
  CONNTRACK_EVENT_COLUMNS,
  type ConntrackEvent,
  type ConntrackStats,
} from '../sources/conntrack-stats.js';
import { type ConstSample, defineCollector, sample } from './collector.js';
import { NAMESPACE_LABELS, type NamespaceLabels, namespaceLabels } from './namespace-labels.js';

const EVENTS = Object.keys(CONNTRACK_EVENT_COLUMNS) as ConntrackEvent[];

interface ConntrackPart {
  readonly node: ConntrackStats;
  /** The latest netns round's namespaces that have conntrack. */
  readonly namespaces: readonly NamespaceSample[];
}

/** The node's stats unlabelled, then each namespace's with its labels. */
function* eachTable(
  part: ConntrackPart,
): Iterable<[Omit<ConntrackStats, 'limit'>, NamespaceLabels | undefined]> {
  yield [part.node, undefined];
  for (const ns of part.namespaces) {
    if (ns.conntrack !== undefined) yield [ns.conntrack, namespaceLabels(ns.inode, ns.owner)];
  }
}

export const conntrackCollector = defineCollector({
  name: 'conntrack',
  // Off by default: without nf_conntrack it could only fail, on every such host.
  help: "Conntrack table entries, limit and events from net/stat/nf_conntrack, the node's and, with --collector.netns, each namespace's (fails where conntrack is absent).",
  enabledByDefault: false,
  sources: ['conntrack'],
  flags: {},
  select: (snapshot): ConntrackPart | undefined =>
    snapshot.conntrack === undefined
      ? undefined
      : { node: snapshot.conntrack, namespaces: snapshot.netns?.round.namespaces ?? [] },
  metrics: [
    {
      name: 'tcpstate_conntrack_entries',
      help: "Connections tracked in the network namespace (net/stat/nf_conntrack entries): the node's, or the one its netns label names.",
      type: 'gauge',
      labelNames: NAMESPACE_LABELS,
      *samples(part) {
        for (const [stats, labels] of eachTable(part)) {
          if (stats.entries !== undefined) yield sample(stats.entries, labels);
        }
      },
    },
    {
      name: 'tcpstate_conntrack_entries_limit',
      help: 'nf_conntrack_max: entries a namespace may hold before new flows are dropped (one limit, each namespace counted against it).',
      type: 'gauge',
      samples: ({ node }) => (node.limit === undefined ? [] : [sample(node.limit)]),
    },
    {
      name: 'tcpstate_conntrack_events_total',
      help: 'Conntrack events by kind, summed over CPUs: insert_failed and drop count flows refused (a full table, or no free NAT port), early_drop entries evicted to make room.',
      type: 'counter',
      labelNames: ['event', ...NAMESPACE_LABELS],
      *samples(part): Iterable<ConstSample> {
        for (const [stats, labels] of eachTable(part)) {
          for (const event of EVENTS) {
            const value = stats.events[event];
            if (value !== undefined) yield sample(value, { event, ...labels });
          }
        }
      },
    },
  ],
});
