/** Kernel socket totals from net/sockstat and net/sockstat6. */
import type { Sockstat } from '../sources/sockstat.js';
import { defineCollector, sample } from './collector.js';

const SOCKSTAT_KINDS = ['inuse', 'orphan', 'tw', 'alloc'] as const;

export const sockstatCollector = defineCollector({
  name: 'sockstat',
  help: 'Kernel socket totals from net/sockstat and net/sockstat6.',
  enabledByDefault: true,
  sources: ['sockstat'],
  flags: {},
  select: (snapshot): Sockstat | undefined => snapshot.sockstat,
  metrics: [
    {
      name: 'tcpstate_sockstat_sockets',
      help: 'Kernel TCP socket totals from net/sockstat(6) by kind: inuse and tw count this network namespace, orphan and alloc the whole host.',
      type: 'gauge',
      labelNames: ['family', 'kind'],
      *samples(stat) {
        for (const [family, fields] of [
          ['ipv4', stat.ipv4],
          ['ipv6', stat.ipv6],
        ] as const) {
          if (fields === undefined) continue;
          for (const kind of SOCKSTAT_KINDS) {
            const value = fields[kind];
            if (value !== undefined) yield sample(value, { family, kind });
          }
        }
      },
    },
    {
      name: 'tcpstate_sockstat_memory_pages',
      help: 'Memory all TCP sockets of the host hold, in pages (net/sockstat TCP mem); compare with tcpstate_sysctl{name=~"net.ipv4.tcp_mem.*"}.',
      type: 'gauge',
      samples: (stat) => (stat.ipv4.mem === undefined ? [] : [sample(stat.ipv4.mem)]),
    },
  ],
});
