/**
 * orphans-near-limit: sockets the programs closed that are still finishing the TCP close
 * (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK without an owner), host-wide, against
 * tcp_max_orphans. Beyond it the kernel resets them ("too many orphaned sockets").
 */
import { sysctlFix } from '../advice.js';
import { type Check, needSockstat, needSysctl, percent } from '../check-context.js';
import { round } from '../counters.js';
import { MAX_ORPHANS } from '../sysctl-names.js';
import { ORPHANS_CRITICAL_RATIO, ORPHANS_WARNING_RATIO } from '../thresholds.js';

interface Observed {
  readonly orphans: number;
  readonly limit: number;
  readonly ratio: number;
}

export const orphansNearLimit: Check<Observed> = {
  id: 'orphans-near-limit',

  observe: (context) => {
    const orphans = needSockstat(context, 'orphan');
    const limit = needSysctl(context, MAX_ORPHANS);
    if (limit <= 0) return [];
    const ratio = orphans / limit;
    return ratio < ORPHANS_WARNING_RATIO ? [] : [{ orphans, limit, ratio }];
  },

  severity: ({ ratio }) => (ratio >= ORPHANS_CRITICAL_RATIO ? 'critical' : 'warning'),

  summary: ({ orphans, limit, ratio }) =>
    `${orphans} orphaned TCP sockets, ${percent(ratio)} of ${MAX_ORPHANS}=${limit}`,

  evidence: ({ orphans, limit, ratio }) => ({
    orphans,
    [MAX_ORPHANS]: limit,
    ratio: round(ratio, 3),
  }),

  explanation: () =>
    `An orphan is a socket its program has closed while the kernel still finishes the close (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK), usually toward peers that stopped answering. When a retransmission of one times out with more orphans than ${MAX_ORPHANS} (half as many for a socket idle past 2 x TCP_RTO_MAX or with a soft error, a quarter for both), the kernel resets it, logs "too many orphaned sockets" and counts TcpExtTCPAbortOnMemory. Each orphan also holds memory. The count and the limit are host-wide.`,

  stopTheBleeding: ({ limit }) => [
    {
      step: 'See where they go: orphans toward one peer mean that peer or the path to it is gone',
      lines: ['ss -tan state fin-wait-1 state last-ack state closing'],
    },
    sysctlFix(
      'Raise the limit if memory allows (each orphan can hold up to about 64 KB of unsent data)',
      MAX_ORPHANS,
      limit * 2,
    ),
  ],

  fix: () => [
    {
      step: 'Close connections to peers that stop reading before they fill their send buffers; lower tcp_orphan_retries shortens how long an orphan retransmits toward a dead peer',
    },
  ],
};
