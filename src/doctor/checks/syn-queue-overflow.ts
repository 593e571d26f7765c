/**
 * syn-queue-overflow: a listener's SYN queue was full. With tcp_syncookies on, the kernel
 * answers with a SYN cookie (TCPReqQFullDoCookies) and the connection still works; with it
 * off, the SYN is dropped (TCPReqQFullDrop) and the client retries after a second or more.
 * With tcp_syncookies=2 every SYN is answered with a cookie and counted the same way, full
 * queue or not, so cookies say nothing there. test/doctor/syn-queue-model.test.ts counts these.
 */
import { sysctlFix } from '../advice.js';
import { type Check, counterEvidence, optionalCounter, Skip } from '../check-context.js';
import type { CounterChange } from '../counters.js';
import type { FixStep } from '../finding.js';
import { MAX_SYN_BACKLOG, SOMAXCONN, SYNCOOKIES } from '../sysctl-names.js';
import { SYN_COOKIES_WARNING_PER_SECOND } from '../thresholds.js';

interface Observed {
  /** Each counter's rise, undefined where this kernel lacks it. */
  readonly drops: Required<CounterChange> | undefined;
  readonly cookies: Required<CounterChange> | undefined;
  readonly windowSeconds: number;
  readonly syncookies: number | undefined;
  readonly somaxconn: number | undefined;
}

export const synQueueOverflow: Check<Observed> = {
  id: 'syn-queue-overflow',

  observe: (context) => {
    const drops = optionalCounter(context, { group: 'tcpExt', field: 'TCPReqQFullDrop' });
    const cookies = optionalCounter(context, { group: 'tcpExt', field: 'TCPReqQFullDoCookies' });
    if (drops === undefined && cookies === undefined)
      throw new Skip('this kernel has neither TCPReqQFullDrop nor TCPReqQFullDoCookies');
    const syncookies = context.sysctl[SYNCOOKIES];
    // With tcp_syncookies=2 the cookie counter rises with every SYN: not a full queue.
    const queueCookies = syncookies === 2 ? undefined : cookies;
    if ((drops?.delta ?? 0) === 0 && (queueCookies?.delta ?? 0) === 0) return [];
    return [
      {
        drops,
        cookies: queueCookies,
        windowSeconds: context.windowSeconds,
        syncookies,
        somaxconn: context.sysctl[SOMAXCONN],
      },
    ];
  },

  // Any dropped SYN is a connection that stalled; cookies only past a steady rate.
  severity: ({ drops, cookies }) =>
    (drops?.delta ?? 0) > 0 || (cookies?.perSecond ?? 0) >= SYN_COOKIES_WARNING_PER_SECOND
      ? 'warning'
      : 'info',

  summary: ({ drops, cookies, windowSeconds }) =>
    `SYN queue full: ${drops?.delta ?? 0} SYNs dropped and ${cookies?.delta ?? 0} answered with SYN cookies in ${windowSeconds} s`,

  evidence: ({ drops, cookies, syncookies, somaxconn }) => ({
    ...(drops !== undefined && counterEvidence(drops)),
    ...(cookies !== undefined && counterEvidence(cookies)),
    ...(syncookies !== undefined && { [SYNCOOKIES]: syncookies }),
    ...(somaxconn !== undefined && { [SOMAXCONN]: somaxconn }),
  }),

  explanation: () =>
    `A listener's SYN queue holds as many half-open connections as its accept backlog (min(the program's listen() backlog, ${SOMAXCONN})). When it is full the kernel sends a SYN cookie if ${SYNCOOKIES} is on (the connection works, but without the TCP options the SYN carried unless timestamps hold them) and drops the SYN if it is off (TCPReqQFullDrop counts only then; the client retries after 1 s, then 2 s, 4 s...). ${MAX_SYN_BACKLOG} only matters with cookies off too: then the kernel also drops SYNs (ListenDrops) once the queue is within a quarter of it. Either a SYN flood, or more connection attempts than the listener's backlog for its accept rate. Cookies do nothing for a full accept queue (listen-overflows): tcp_conn_request() drops a SYN while the accept queue is full even when it would send a cookie.`,

  stopTheBleeding: ({ syncookies }) => {
    const stop: FixStep[] = [
      {
        step: 'Find the listener: SYN_RECV sockets pile up on its port, and for LISTEN sockets Send-Q is the backlog that also bounds the SYN queue',
        lines: ['ss -tan state syn-recv', 'ss -ltn'],
      },
    ];
    if (syncookies === 0)
      stop.push(
        sysctlFix(
          'Turn SYN cookies on so a full SYN queue answers instead of dropping',
          SYNCOOKIES,
          1,
        ),
      );
    return stop;
  },

  fix: ({ syncookies }) => [
    {
      step: `Raise the listener's backlog (capped by ${SOMAXCONN}): it is the SYN queue's size, e.g. nginx`,
      lines: ['listen 80 backlog=4096;'],
    },
    ...(syncookies === 0
      ? [
          {
            step: `With cookies off, ${MAX_SYN_BACKLOG} drops SYNs before the queue is full: raise it with the backlog (it does nothing once cookies are on)`,
          },
        ]
      : []),
    {
      step: 'If it is a flood of spoofed SYNs (SYN_RECV from many addresses that never complete), filter it upstream; keep SYN cookies on',
    },
  ],
};
