/**
 * listen-overflows: ListenOverflows or ListenDrops rose over the window, so a listener's
 * accept queue was full and handshakes were dropped.
 */
import { sysctlFix } from '../advice.js';
import { type Check, needCounter } from '../check-context.js';
import type { CounterChange } from '../counters.js';
import type { FixStep } from '../finding.js';
import { MAX_SYN_BACKLOG, SOMAXCONN, SYNCOOKIES } from '../sysctl-names.js';

interface Observed {
  readonly overflows: Required<CounterChange>;
  readonly drops: Required<CounterChange>;
  readonly windowSeconds: number;
  readonly somaxconn: number | undefined;
  readonly synBacklog: number | undefined;
  readonly syncookies: number | undefined;
  /** Listeners with half-open connections: where the queue may be. */
  readonly synRecv: readonly { readonly port: number; readonly synRecv: number }[];
}

/** The backlog the advice asks for: somaxconn's default since Linux 5.4, or more. */
function backlogFor({ somaxconn }: Observed): number {
  return Math.max(4096, somaxconn ?? 0);
}

export const listenOverflows: Check<Observed> = {
  id: 'listen-overflows',

  observe: (context) => {
    const overflows = needCounter(context, { group: 'tcpExt', field: 'ListenOverflows' });
    const drops = needCounter(context, { group: 'tcpExt', field: 'ListenDrops' });
    if (overflows.delta === 0 && drops.delta === 0) return [];
    const synRecv = (context.sockets?.listenPorts ?? []).flatMap((entry) =>
      entry.port !== 'other' && entry.states.syn_recv > 0
        ? [{ port: entry.port, synRecv: entry.states.syn_recv }]
        : [],
    );
    return [
      {
        overflows,
        drops,
        windowSeconds: context.windowSeconds,
        somaxconn: context.sysctl[SOMAXCONN],
        synBacklog: context.sysctl[MAX_SYN_BACKLOG],
        syncookies: context.sysctl[SYNCOOKIES],
        synRecv,
      },
    ];
  },

  severity: () => 'warning',

  summary: ({ overflows, drops, windowSeconds }) =>
    `ListenOverflows rose by ${overflows.delta} and ListenDrops by ${drops.delta} in ${windowSeconds} s`,

  evidence: ({ overflows, drops, somaxconn, synBacklog, syncookies, synRecv }) => ({
    [`${overflows.name}.delta`]: overflows.delta,
    [`${overflows.name}.perSecond`]: overflows.perSecond,
    [`${drops.name}.delta`]: drops.delta,
    [`${drops.name}.perSecond`]: drops.perSecond,
    ...(somaxconn !== undefined && { [SOMAXCONN]: somaxconn }),
    ...(synBacklog !== undefined && { [MAX_SYN_BACKLOG]: synBacklog }),
    ...(syncookies !== undefined && { [SYNCOOKIES]: syncookies }),
    listenersWithSynRecv: synRecv,
  }),

  explanation: () =>
    `Connections were dropped at a listener: ListenOverflows counts handshakes completed while the accept queue was full, ListenDrops all drops at a listener (overflows included). The client sees a stall and retransmits its SYN or ACK, often 1 s or more of extra latency, or a timeout. The accept queue is min(the program's listen() backlog, ${SOMAXCONN}). SYN cookies do not help here: while the accept queue is full tcp_conn_request() drops the SYN even when it would send a cookie, and ${MAX_SYN_BACKLOG} bounds the SYN queue, not this one.`,

  stopTheBleeding: (observed) => {
    const backlog = backlogFor(observed);
    const stop: FixStep[] = [
      {
        step: 'Find the listener whose accept queue is full: for LISTEN sockets Recv-Q is the queue and Send-Q its limit',
        lines: ['ss -ltn'],
      },
      {
        step: `Raise the backlog the program asks for, e.g. nginx (capped by ${SOMAXCONN})`,
        lines: [`listen 80 backlog=${backlog};`],
      },
    ];
    if (observed.somaxconn !== undefined && observed.somaxconn < backlog)
      stop.push(sysctlFix('Raise the kernel cap on every listen backlog', SOMAXCONN, backlog));
    return stop;
  },

  fix: () => [
    {
      step: 'If the queue fills because the program accepts too slowly (busy workers), add workers or capacity: a longer queue only buys time',
    },
  ],
};
