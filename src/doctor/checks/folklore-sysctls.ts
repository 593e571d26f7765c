/**
 * folklore-sysctls: TIME_WAIT folklore already applied, each checked in a namespace
 * (test/doctor/folklore-model.test.ts): tcp_tw_recycle on (kernels before 4.12), a lowered
 * tcp_fin_timeout (it bounds orphaned FIN_WAIT2, not TIME_WAIT), a lowered
 * tcp_max_tw_buckets (TIME_WAIT destroyed at once past it).
 */
import { sysctlFix } from '../advice.js';
import { type Check, needSysctl } from '../check-context.js';
import type { FixStep } from '../finding.js';
import { EHASH_ENTRIES, FIN_TIMEOUT, MAX_TW_BUCKETS, TW_RECYCLE } from '../sysctl-names.js';
import { FIN_TIMEOUT_DEFAULT_SECONDS } from '../thresholds.js';

type Observed =
  | { readonly kind: 'tw-recycle'; readonly value: number }
  | { readonly kind: 'fin-timeout'; readonly value: number }
  | { readonly kind: 'max-tw-buckets'; readonly value: number; readonly default: number };

/** Where the setting that did it lives, so the undo outlives a reboot; `why` debunks it. */
function findTheLine(name: string, why: string): FixStep {
  return {
    step: `Remove the line that set it (${why}): a later file in /etc/sysctl.d/ would set it again at boot`,
    lines: [`grep -rn '${name.split('.').at(-1)}' /etc/sysctl.conf /etc/sysctl.d/`],
  };
}

export const folkloreSysctls: Check<Observed> = {
  id: 'folklore-sysctls',

  observe: (context) => {
    const found: Observed[] = [];
    const recycle = context.sysctl[TW_RECYCLE];
    if (recycle !== undefined && recycle !== 0) found.push({ kind: 'tw-recycle', value: recycle });
    const finTimeout = needSysctl(context, FIN_TIMEOUT);
    if (finTimeout < FIN_TIMEOUT_DEFAULT_SECONDS)
      found.push({ kind: 'fin-timeout', value: finTimeout });
    const buckets = needSysctl(context, MAX_TW_BUCKETS);
    // The default is half the established hash (tcp_sk_init); kernels before 6.1 do not show
    // the hash's size, and nothing is said there.
    const ehash = context.sysctl[EHASH_ENTRIES];
    if (ehash !== undefined && buckets < Math.abs(ehash) / 2)
      found.push({ kind: 'max-tw-buckets', value: buckets, default: Math.abs(ehash) / 2 });
    return found;
  },

  severity: (observed) => (observed.kind === 'fin-timeout' ? 'info' : 'warning'),

  summary: (observed) => {
    switch (observed.kind) {
      case 'tw-recycle':
        return `${TW_RECYCLE} is on: it drops connections from clients behind NAT, and Linux 4.12 removed it`;
      case 'fin-timeout':
        return `${FIN_TIMEOUT} is ${observed.value} s, under its ${FIN_TIMEOUT_DEFAULT_SECONDS} s default: it bounds orphaned FIN_WAIT2 sockets, not TIME_WAIT`;
      case 'max-tw-buckets':
        return `${MAX_TW_BUCKETS} is ${observed.value}, under its default of ${observed.default}: TIME_WAIT past it is destroyed at once`;
    }
  },

  evidence: (observed) => {
    if (observed.kind === 'tw-recycle') return { [TW_RECYCLE]: observed.value };
    if (observed.kind === 'fin-timeout') return { [FIN_TIMEOUT]: observed.value };
    return { [MAX_TW_BUCKETS]: observed.value, default: observed.default };
  },

  explanation: (observed) => {
    switch (observed.kind) {
      case 'tw-recycle':
        return `${TW_RECYCLE} (removed in Linux 4.12) made the kernel remember the last TCP timestamp of each peer address and drop SYNs whose timestamps go backwards: clients behind one NAT have unrelated clocks, so some of them cannot connect at all (counted as PAWS rejects). TIME_WAIT needs no such cure: tcp_tw_reuse covers outgoing connections safely.`;
      case 'fin-timeout':
        return `${FIN_TIMEOUT} is how long an orphaned socket (closed by its program) waits in FIN_WAIT2 for the peer's FIN. It does not shorten TIME_WAIT, a fixed 60 s, so it frees no ephemeral port; lowered, it only cuts off peers that are slow to close their side.`;
      case 'max-tw-buckets':
        return `Past ${MAX_TW_BUCKETS} a closing connection skips TIME_WAIT: its socket is destroyed at once and TCPTimeWaitOverflow counts it. Its port is free again, which is why the setting gets lowered, but TIME_WAIT is what keeps a late segment of the old connection out of a new one with the same 4-tuple, and what answers the peer's retransmitted FIN when the last ACK was lost (without it the peer gets a RST). tcp_tw_reuse frees TIME_WAIT ports for outgoing connections with timestamps guarding them.`;
    }
  },

  fix: (observed) => {
    switch (observed.kind) {
      case 'tw-recycle':
        return [
          sysctlFix(
            `Turn it off now (Linux 4.12 removed it, so an upgrade ends it too)`,
            TW_RECYCLE,
            0,
          ),
          findTheLine(TW_RECYCLE, 'removed in Linux 4.12'),
        ];
      case 'fin-timeout':
        return [
          sysctlFix(
            'Set it back to its default: it bounds orphaned FIN_WAIT2 sockets, and TIME_WAIT is relieved by keeping connections alive (the findings on TIME_WAIT say how)',
            FIN_TIMEOUT,
            FIN_TIMEOUT_DEFAULT_SECONDS,
          ),
          findTheLine(FIN_TIMEOUT, 'it bounds FIN_WAIT2, not TIME_WAIT'),
        ];
      case 'max-tw-buckets':
        return [
          sysctlFix(
            'Set it back to its default; relieve TIME_WAIT by keeping connections alive, and with tcp_tw_reuse for outgoing ones',
            MAX_TW_BUCKETS,
            observed.default,
          ),
          findTheLine(MAX_TW_BUCKETS, 'TIME_WAIT past it is destroyed'),
        ];
    }
  },
};
