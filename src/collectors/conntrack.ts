/**
 * Conntrack's entries, its limit and its event counters (docs/conntrack.md): the node's,
 * and with --collector.netns each namespace's (selectNamespace), labelled as namespace-labels.ts says.
 */

import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import {
  CONNTRACK_EVENT_COLUMNS,
  type ConntrackEvent,
  type ConntrackStats,
} from '../sources/conntrack-stats.js';
import { defineCollector, type LabelledValue, labelled } from './collector.js';

const EVENTS = Object.keys(CONNTRACK_EVENT_COLUMNS) as ConntrackEvent[];

/** A namespace has no limit of its own: nf_conntrack_max is the node's, each namespace counted against it. */
type ConntrackPart = Omit<ConntrackStats, 'limit'> & Pick<Partial<ConntrackStats>, 'limit'>;

export const conntrackCollector = defineCollector({
  name: 'conntrack',
  // Off by default: without nf_conntrack it could only fail, on every such host.
  help: "Conntrack table entries, limit and events from net/stat/nf_conntrack, the node's and, with --collector.netns, each namespace's (fails where conntrack is absent).",
  enabledByDefault: false,
  sources: [ENGINE_SOURCES.conntrack],
  flags: {},
  select: (snapshot): ConntrackPart | undefined => snapshot.conntrack,
  selectNamespace: (namespace): ConntrackPart | undefined => namespace.conntrack,
  metrics: [
    {
      name: 'tcpstate_conntrack_entries',
      help: "Connections tracked in the network namespace (net/stat/nf_conntrack entries): the node's, or the one its netns label names.",
      type: 'gauge',
      values: (stats) => (stats.entries === undefined ? [] : [labelled(stats.entries)]),
    },
    {
      name: 'tcpstate_conntrack_entries_limit',
      help: 'nf_conntrack_max: entries a namespace may hold before new flows are dropped (one limit, each namespace counted against it).',
      type: 'gauge',
      values: (stats) => (stats.limit === undefined ? [] : [labelled(stats.limit)]),
    },
    {
      name: 'tcpstate_conntrack_events_total',
      help: 'Conntrack events by kind, summed over CPUs: insert_failed and drop count flows refused (a full table, or no free NAT port), early_drop entries evicted to make room.',
      type: 'counter',
      labelNames: ['event'],
      *values(stats): Iterable<LabelledValue> {
        for (const event of EVENTS) {
          const value = stats.events[event];
          if (value !== undefined) yield labelled(value, { event });
        }
      },
    },
  ],
});
