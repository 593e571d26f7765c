/**
 * conntrack-near-full: flows in this namespace's conntrack table against nf_conntrack_max
 * (net/stat/nf_conntrack). At the limit the kernel evicts unassured flows (early_drop) and
 * then drops new ones: their connect() times out. Nothing to find without nf_conntrack.
 */
import { sysctlFix } from '../advice.js';
import { type Check, conntrackIfPresent, percent } from '../check-context.js';
import { round } from '../counters.js';
import { CONNTRACK_MAX } from '../sysctl-names.js';
import {
  CONNTRACK_ENTRIES_CRITICAL_RATIO,
  CONNTRACK_ENTRIES_WARNING_RATIO,
} from '../thresholds.js';

interface Observed {
  readonly entries: number;
  readonly limit: number;
  readonly ratio: number;
}

export const conntrackNearFull: Check<Observed> = {
  id: 'conntrack-near-full',

  observe: (context) => {
    const stats = conntrackIfPresent(context);
    if (stats === undefined) return [];
    const { entries, limit } = stats;
    if (entries === undefined || limit === undefined || limit <= 0) return [];
    const ratio = entries / limit;
    return ratio < CONNTRACK_ENTRIES_WARNING_RATIO ? [] : [{ entries, limit, ratio }];
  },

  severity: ({ ratio }) => (ratio >= CONNTRACK_ENTRIES_CRITICAL_RATIO ? 'critical' : 'warning'),

  summary: ({ entries, limit, ratio }) =>
    `${entries} conntrack entries, ${percent(ratio)} of ${CONNTRACK_MAX}=${limit}`,

  evidence: ({ entries, limit, ratio }) => ({
    entries,
    [CONNTRACK_MAX]: limit,
    ratio: round(ratio, 3),
  }),

  explanation: () =>
    `Every flow through this network namespace, NATed or not, holds a conntrack entry, counted against the one ${CONNTRACK_MAX} of the kernel. At the limit the kernel first evicts flows that have had no reply (early_drop), then drops new flows: their connect() times out, conntrack counts drop, and the kernel logs "nf_conntrack: table full, dropping packet". A closed TCP flow keeps its entry for nf_conntrack_tcp_timeout_time_wait (120 s).`,

  stopTheBleeding: ({ limit }) => [
    {
      step: 'See which states and destinations hold the entries: many short flows to one service are the usual cause',
      lines: [
        "conntrack -L 2>/dev/null | awk '{print $4}' | sort | uniq -c | sort -rn | head",
        'conntrack -S',
      ],
    },
    sysctlFix(
      'Raise the limit if memory allows (an entry is one nf_conntrack slab object, 256 bytes on current kernels)',
      CONNTRACK_MAX,
      limit * 2,
    ),
    {
      step: 'Raise the hash size with it, about one bucket per one to four entries, so lookups stay short',
      lines: [`echo ${Math.ceil(limit / 2)} > /sys/module/nf_conntrack/parameters/hashsize`],
    },
  ],

  fix: () => [
    {
      step: 'Reuse connections (HTTP keep-alive, connection pools): each new flow holds an entry until 120 s after it closes',
    },
    {
      step: 'Do not shorten nf_conntrack_tcp_timeout_established or exempt traffic with notrack to make room: NAT and stateful firewall rules then break for those flows',
    },
  ],
};
