/**
 * time-wait-overflow: TcpExtTCPTimeWaitOverflow rose over the window, so the TIME_WAIT table
 * was full and the kernel destroyed TIME_WAIT it should have kept.
 */
import { type Check, counterEvidence, needCounter } from '../check-context.js';
import type { CounterChange } from '../counters.js';
import { MAX_TW_BUCKETS } from '../sysctl-names.js';
import { FEWER_TIME_WAIT, raiseTimeWaitLimit, TIME_WAIT_TABLE_FACTS } from '../time-wait-table.js';

interface Observed {
  readonly change: Required<CounterChange>;
  readonly windowSeconds: number;
  readonly limit: number | undefined;
  readonly timeWait: number | undefined;
}

export const timeWaitOverflow: Check<Observed> = {
  id: 'time-wait-overflow',

  observe: (context) => {
    const change = needCounter(context, { group: 'tcpExt', field: 'TCPTimeWaitOverflow' });
    if (change.delta === 0) return [];
    return [
      {
        change,
        windowSeconds: context.windowSeconds,
        limit: context.sysctl[MAX_TW_BUCKETS],
        // What the kernel compares with the limit (time-wait-near-bucket-limit.ts).
        timeWait: context.second.sockstat?.ipv4.tw,
      },
    ];
  },

  severity: () => 'warning',

  summary: ({ change, windowSeconds }) =>
    `TCPTimeWaitOverflow rose by ${change.delta} in ${windowSeconds} s (${change.perSecond}/s)`,

  evidence: ({ change, limit, timeWait }) => ({
    ...counterEvidence(change),
    ...(timeWait !== undefined && { timeWait }),
    ...(limit !== undefined && { [MAX_TW_BUCKETS]: limit }),
  }),

  explanation: ({ change }) =>
    `The TIME_WAIT table is full: the kernel destroyed ${change.delta} connections' TIME_WAIT at once instead of keeping it, so late segments of an old connection can be taken for a new one on the same ports. ${TIME_WAIT_TABLE_FACTS}`,

  stopTheBleeding: ({ limit }) => raiseTimeWaitLimit(limit),

  fix: () => [FEWER_TIME_WAIT],
};
