/**
 * tw-reuse-off: destinations under port pressure whose TIME_WAIT connect() may not reuse
 * (tcp_tw_reuse 0 or loopback-only 2, or timestamps off), where reuse would change something.
 */
import type { Destination } from '../../snapshot/model.js';
import { twReuseFixes } from '../advice.js';
import { type Check, needSockets, needSysctl } from '../check-context.js';
import {
  clientTimeWaitPorts,
  crowdedDestinations,
  describeDestination,
  destinationEvidence,
  destinationsToward,
  twReuseWouldHelp,
} from '../ephemeral.js';
import { TIMESTAMPS, TW_REUSE, TW_REUSE_DELAY } from '../sysctl-names.js';

interface Observed {
  readonly reuse: number;
  readonly timestamps: number | undefined;
  /** tcp_tw_reuse_delay in ms, where the kernel has it. */
  readonly delay: number | undefined;
  /** The pressured destinations reuse would help. */
  readonly helped: readonly Destination[];
}

export const twReuseOff: Check<Observed> = {
  id: 'tw-reuse-off',

  observe: (context) => {
    const sockets = needSockets(context);
    const reuse = needSysctl(context, TW_REUSE);
    const pressured = new Map<string, Destination>();
    const add = (destination: Destination) =>
      pressured.set(describeDestination(destination), destination);
    crowdedDestinations(sockets).forEach(add);
    for (const { port } of clientTimeWaitPorts(sockets))
      destinationsToward(sockets, port).forEach(add);
    // Only where reuse does not apply yet and TIME_WAIT is what blocks: elsewhere it changes nothing.
    const helped = [...pressured.values()].filter(twReuseWouldHelp);
    if (helped.length === 0) return [];
    return [
      {
        reuse,
        timestamps: context.sysctl[TIMESTAMPS],
        delay: context.sysctl[TW_REUSE_DELAY],
        helped,
      },
    ];
  },

  severity: () => 'info',

  summary: ({ reuse, timestamps, helped }) => {
    const why =
      timestamps === 0
        ? `${TIMESTAMPS}=0, and reuse needs the TIME_WAIT connection to have carried timestamps`
        : `${TW_REUSE}=${reuse} (${reuse === 0 ? 'off' : 'loopback only'})`;
    return `TIME_WAIT is not reusable toward ${helped.map(describeDestination).join(', ')}: ${why}`;
  },

  evidence: ({ reuse, timestamps, delay, helped }) => ({
    [TW_REUSE]: reuse,
    ...(timestamps !== undefined && { [TIMESTAMPS]: timestamps }),
    ...(delay !== undefined && { [TW_REUSE_DELAY]: delay }),
    destinations: helped.map(destinationEvidence),
  }),

  explanation: ({ delay }) =>
    `With ${TW_REUSE}=1, connect() may reuse a 4-tuple still in TIME_WAIT once that TIME_WAIT is older than ${delay === undefined ? '0-1 s (kernels before 6.14 have no tcp_tw_reuse_delay: reuse waits for the next wall-clock second after the last timestamp received)' : `${TW_REUSE_DELAY} (${delay} ms)`}, for every destination; 0 is off and 2 (the default) covers loopback addresses only. It needs TCP timestamps (${TIMESTAMPS}=1), which let the peer reject segments of the old connection (PAWS). It only affects outgoing connections, never the accepting side. Caveats: a middlebox that still tracks the old flow (a conntrack entry of a NAT or firewall, a load balancer) may drop or reset the reused 4-tuple's SYN, and a peer still in LAST_ACK (its FIN's ACK lost) answers the new SYN with an ACK of the old connection, then a reset, which costs the client a retry. Keeping connections open is the better fix; this one raises how many connections per second a destination can take from usable ports / 60 s to usable ports / the reuse delay.`,

  fix: ({ timestamps }) => twReuseFixes(timestamps),
};
