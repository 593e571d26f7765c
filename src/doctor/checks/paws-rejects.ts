/**
 * paws-rejects: PAWS counters rose over the window: segments dropped because their TCP
 * timestamp went backwards, usually several hosts behind one NAT address.
 */
import { type Check, needCounter, optionalCounter } from '../check-context.js';
import { type CounterChange, round } from '../counters.js';
import { TIMESTAMPS } from '../sysctl-names.js';
import { PAWS_WARNING_PER_SECOND } from '../thresholds.js';

interface Observed {
  /** The PAWS counters this kernel has, each with its rise. */
  readonly counters: readonly Required<CounterChange>[];
  readonly total: number;
  readonly perSecond: number;
  readonly windowSeconds: number;
  readonly timestamps: number | undefined;
}

export const pawsRejects: Check<Observed> = {
  id: 'paws-rejects',

  observe: (context) => {
    const active = needCounter(context, { group: 'tcpExt', field: 'PAWSActive' });
    const established = needCounter(context, { group: 'tcpExt', field: 'PAWSEstab' });
    // Newer kernels count rejects by TIME_WAIT sockets here instead of in PAWSEstab.
    const timewait = optionalCounter(context, { group: 'tcpExt', field: 'PAWSTimewait' });
    const counters = [active, established, ...(timewait === undefined ? [] : [timewait])];
    const total = counters.reduce((sum, change) => sum + change.delta, 0);
    if (total === 0) return [];
    return [
      {
        counters,
        total,
        perSecond: round(total / context.windowSeconds, 2),
        windowSeconds: context.windowSeconds,
        timestamps: context.sysctl[TIMESTAMPS],
      },
    ];
  },

  severity: ({ perSecond }) => (perSecond >= PAWS_WARNING_PER_SECOND ? 'warning' : 'info'),

  summary: ({ counters, total, windowSeconds }) =>
    `PAWS rejected ${total} segments in ${windowSeconds} s (${counters.map((change) => `${change.name.replace('TcpExt', '')} +${change.delta}`).join(', ')})`,

  evidence: ({ counters, perSecond, timestamps }) => ({
    ...Object.fromEntries(counters.map((change) => [`${change.name}.delta`, change.delta])),
    perSecond,
    ...(timestamps !== undefined && { [TIMESTAMPS]: timestamps }),
  }),

  explanation: () =>
    'The kernel dropped segments whose TCP timestamp was older than one it had already seen from that peer (PAWSEstab: on established connections, PAWSActive: SYN-ACKs of outgoing connections, PAWSTimewait: segments to TIME_WAIT sockets). A steady stream means a peer whose timestamps go backwards: usually several hosts behind one NAT address, or a middlebox that rewrites timestamps. The classic cause, tcp_tw_recycle, was removed in Linux 4.12; on a current kernel look at the network path.',

  fix: () => [
    {
      step: 'Watch which counters rise',
      lines: ['nstat -az TcpExtPAWSActive TcpExtPAWSEstab TcpExtPAWSTimewait'],
    },
    {
      step: 'Find the peers: in a capture of their traffic the TSval option goes backwards; fix the NAT or middlebox in that path',
    },
    {
      step: 'Do not turn timestamps off to silence it: that removes PAWS protection and tcp_tw_reuse',
    },
  ],
};
