/**
 * tw-reuse-delay-short: tcp_tw_reuse_delay (Linux 6.14+) set below its 1000 ms default while
 * TIME_WAIT reuse is on for some destinations.
 */
import { sysctlFix } from '../advice.js';
import { type Check, needSysctl } from '../check-context.js';
import { TIMESTAMPS, TW_REUSE, TW_REUSE_DELAY } from '../sysctl-names.js';
import { TW_REUSE_DELAY_DEFAULT_MS } from '../thresholds.js';

interface Observed {
  readonly delay: number;
  readonly reuse: number;
}

export const twReuseDelayShort: Check<Observed> = {
  id: 'tw-reuse-delay-short',

  observe: (context) => {
    const reuse = needSysctl(context, TW_REUSE);
    const delay = context.sysctl[TW_REUSE_DELAY];
    // Kernels before 6.14 have no such sysctl; with reuse or timestamps off it changes nothing.
    if (delay === undefined || reuse === 0 || context.sysctl[TIMESTAMPS] === 0) return [];
    return delay < TW_REUSE_DELAY_DEFAULT_MS ? [{ delay, reuse }] : [];
  },

  severity: () => 'info',

  summary: ({ delay }) =>
    `${TW_REUSE_DELAY}=${delay}: connect() reuses a TIME_WAIT 4-tuple ${delay} ms after it began, under the ${TW_REUSE_DELAY_DEFAULT_MS} ms default`,

  evidence: ({ delay, reuse }) => ({ [TW_REUSE_DELAY]: delay, [TW_REUSE]: reuse }),

  explanation: ({ reuse }) =>
    `With ${TW_REUSE}=${reuse}${reuse === 2 ? ' (loopback destinations only)' : ''}, connect() may take over a TIME_WAIT 4-tuple once it is older than ${TW_REUSE_DELAY}. Timestamps (PAWS) keep late segments of the old connection out, but the shorter the delay, the likelier the peer has not seen the end of the old connection yet (its last ACK lost, so it still sits in LAST_ACK and answers the new SYN with an ACK of the old one, costing a reset and a retry) and the likelier a middlebox (conntrack of a NAT or firewall, a load balancer) still tracks the old flow. Kernels before 6.14 had no such sysctl: they reused from the next wall-clock second after the last timestamp received, 0-1 s.`,

  fix: () => [
    sysctlFix(
      'Set the delay back to its default unless a measured need says otherwise',
      TW_REUSE_DELAY,
      TW_REUSE_DELAY_DEFAULT_MS,
    ),
  ],
};
