/**
 * time-wait-near-bucket-limit: the namespace's TIME_WAIT count against tcp_max_tw_buckets.
 * The count is sockstat `tw`, the refcount inet_twsk_alloc() compares with the limit (O(1),
 * and exact where a table walk can miss sockets under churn). Past the limit the kernel
 * destroys new TIME_WAIT at once (time-wait-overflow counts that).
 */
import type { PortStateCounts, SocketTables } from '../../snapshot/model.js';
import { type Check, needSockets, needSockstat, needSysctl, percent } from '../check-context.js';
import { round } from '../counters.js';
import { MAX_TW_BUCKETS } from '../sysctl-names.js';
import {
  TIME_WAIT_BUCKETS_CRITICAL_RATIO,
  TIME_WAIT_BUCKETS_WARNING_RATIO,
} from '../thresholds.js';
import { FEWER_TIME_WAIT, raiseTimeWaitLimit, TIME_WAIT_TABLE_FACTS } from '../time-wait-table.js';

interface Observed {
  readonly sockets: SocketTables;
  readonly timeWait: number;
  readonly limit: number;
  readonly ratio: number;
}

function sumTimeWait(ports: readonly PortStateCounts[]): number {
  return ports.reduce((sum, entry) => sum + entry.states.time_wait, 0);
}

export const timeWaitNearBucketLimit: Check<Observed> = {
  id: 'time-wait-near-bucket-limit',

  observe: (context) => {
    const sockets = needSockets(context);
    const limit = needSysctl(context, MAX_TW_BUCKETS);
    if (limit <= 0) return [];
    const timeWait = needSockstat(context, 'tw');
    const ratio = timeWait / limit;
    return ratio < TIME_WAIT_BUCKETS_WARNING_RATIO ? [] : [{ sockets, timeWait, limit, ratio }];
  },

  severity: ({ ratio }) => (ratio >= TIME_WAIT_BUCKETS_CRITICAL_RATIO ? 'critical' : 'warning'),

  summary: ({ timeWait, limit, ratio }) =>
    `${timeWait} TIME_WAIT sockets, ${percent(ratio)} of ${MAX_TW_BUCKETS}=${limit}`,

  evidence: ({ sockets, timeWait, limit, ratio }) => ({
    timeWait,
    inboundTimeWait: sumTimeWait(sockets.listenPorts),
    outboundTimeWait: sumTimeWait(sockets.remotePorts),
    [MAX_TW_BUCKETS]: limit,
    ratio: round(ratio, 3),
  }),

  explanation: () =>
    `Past ${MAX_TW_BUCKETS} the kernel destroys new TIME_WAIT sockets at once, so late segments of an old connection can be taken for a new one. ${TIME_WAIT_TABLE_FACTS}`,

  stopTheBleeding: ({ limit }) => raiseTimeWaitLimit(limit),

  fix: () => [FEWER_TIME_WAIT],
};
