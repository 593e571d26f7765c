/**
 * Kernel socket totals from net/sockstat and net/sockstat6, and in the daemon their highest
 * values over a trailing window, read between values (docs/connect-errors.md).
 */

import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import { resultOf, scheduledSource } from '../sources/scheduled-source.js';
import type { Sockstat } from '../sources/sockstat.js';
import type { SockstatFastReadings, SockstatPeaks } from '../sources/sockstat-peaks.js';
import { defineCollector, type LabelledValue, labelled } from './collector.js';

/** The daemon's fast readings, every --collector.sockstat.fast-interval (one reading has no peak: not in --once). */
export const SOCKSTAT_FAST = scheduledSource<SockstatFastReadings>('sockstat-fast', {
  kind: 'interval',
  flag: 'sockstatFastIntervalMs',
});

const SOCKSTAT_KINDS = ['inuse', 'orphan', 'tw', 'alloc'] as const;

interface SockstatView {
  readonly stat: Sockstat;
  readonly peaks?: SockstatPeaks;
}

function* byFamilyAndKind(stat: Sockstat | SockstatPeaks): Iterable<LabelledValue> {
  for (const [family, fields] of [
    ['ipv4', stat.ipv4],
    ['ipv6', stat.ipv6],
  ] as const) {
    if (fields === undefined) continue;
    for (const kind of SOCKSTAT_KINDS) {
      const value = fields[kind];
      if (value !== undefined) yield labelled(value, { family, kind });
    }
  }
}

export const sockstatCollector = defineCollector({
  name: 'sockstat',
  help: 'Kernel socket totals from net/sockstat and net/sockstat6.',
  enabledByDefault: true,
  sources: [ENGINE_SOURCES.sockstat, SOCKSTAT_FAST],
  flags: {
    sockstatFastIntervalMs: {
      name: 'collector.sockstat.fast-interval',
      kind: 'duration',
      // docs/connect-errors.md: ~0.1 ms of CPU a reading, 0.05 % of a core at 250 ms.
      default: 250,
      max: 60_000,
      maxReason: 'slower than that, the samples themselves see the peaks',
      help: 'How often the daemon reads net/sockstat between samples for tcpstate_sockstat_sockets_max.',
    },
    sockstatPeakWindowMs: {
      name: 'collector.sockstat.peak-window',
      kind: 'duration',
      // Longer than a 30 s scrape interval: no peak falls between two scrapes.
      default: 60_000,
      max: 3_600_000,
      maxReason: 'the window keeps up to one reading per fast interval',
      help: 'Trailing window over which tcpstate_sockstat_sockets_max is the highest reading.',
    },
  },
  select: (snapshot): SockstatView | undefined => {
    if (snapshot.sockstat === undefined) return undefined;
    const peaks = resultOf(snapshot.scheduled, SOCKSTAT_FAST)?.node;
    return { stat: snapshot.sockstat, ...(peaks !== undefined && { peaks }) };
  },
  // Its per-namespace fields only (inuse, tw): orphan, alloc and mem are the host's.
  selectNamespace: (namespace, snapshot): SockstatView | undefined => {
    if (namespace.sockstat === undefined) return undefined;
    const peaks = resultOf(snapshot.scheduled, SOCKSTAT_FAST)?.namespaces[namespace.inode];
    return { stat: namespace.sockstat, ...(peaks !== undefined && { peaks }) };
  },
  metrics: [
    {
      name: 'tcpstate_sockstat_sockets',
      help: 'Kernel TCP socket totals from net/sockstat(6) by kind: inuse and tw count this network namespace, orphan and alloc the whole host.',
      type: 'gauge',
      labelNames: ['family', 'kind'],
      values: ({ stat }) => byFamilyAndKind(stat),
    },
    {
      name: 'tcpstate_sockstat_sockets_max',
      help: 'Highest value of tcpstate_sockstat_sockets over the trailing --collector.sockstat.peak-window, read every --collector.sockstat.fast-interval: a burst between two samples or scrapes shows here (the daemon only; a namespace of --collector.netns from the round that found it).',
      type: 'gauge',
      labelNames: ['family', 'kind'],
      values: ({ peaks }) => (peaks === undefined ? [] : byFamilyAndKind(peaks)),
    },
    {
      name: 'tcpstate_sockstat_memory_pages',
      help: 'Memory all TCP sockets of the host hold, in pages (net/sockstat TCP mem); compare with tcpstate_sysctl{name=~"net.ipv4.tcp_mem.*"}.',
      type: 'gauge',
      values: ({ stat }) => (stat.ipv4.mem === undefined ? [] : [labelled(stat.ipv4.mem)]),
    },
  ],
});
