/** What the two TIME_WAIT table findings (near the limit, overflowed) share. */
import { sysctlFix } from './advice.js';
import type { FixStep } from './finding.js';
import { MAX_TW_BUCKETS } from './sysctl-names.js';

export const FEWER_TIME_WAIT: FixStep = {
  step: 'Create fewer TIME_WAIT sockets: keep connections open (HTTP keep-alive, nginx upstream keepalive, connection pools); see the findings per port',
};

export function raiseTimeWaitLimit(limit: number | undefined): FixStep[] {
  if (limit === undefined || limit <= 0) return [];
  return [
    sysctlFix(
      'Raise the limit (it is per network namespace; a TIME_WAIT socket costs a few hundred bytes)',
      MAX_TW_BUCKETS,
      limit * 2,
    ),
  ];
}

/**
 * What both explanations end with: where the kernel reports destroyed TIME_WAIT (a counter,
 * not the log, on any current kernel), and the myths about shortening TIME_WAIT.
 */
export const TIME_WAIT_TABLE_FACTS =
  'The kernel counts each in TcpExtTCPTimeWaitOverflow and logs nothing: only 2.6-era kernels printed "TCP: time wait bucket table overflow" (3.13 and later just count), so an empty kernel log proves nothing. TIME_WAIT lasts a fixed 60 s; tcp_fin_timeout does not shorten it (it bounds orphaned FIN_WAIT2 sockets), and tcp_tw_recycle, the old advice, was removed in Linux 4.12.';
