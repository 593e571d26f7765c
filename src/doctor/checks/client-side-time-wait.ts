/**
 * client-side-time-wait: many outbound TIME_WAIT sockets toward one remote port, so this
 * host, the client, closes first and opens a connection per request. Info when connect()
 * may reuse them all (they bound its rate, not its ports), a warning when they hold ports.
 */
import type { Destination, EphemeralPorts } from '../../snapshot/model.js';
import { TIME_WAIT_SECONDS } from '../../snapshot/socket-accumulator.js';
import { type Upstream, upstreamFixes } from '../advice.js';
import { type Check, needSockets } from '../check-context.js';
import { type CounterChange, counterChange, round } from '../counters.js';
import {
  clientTimeWaitPorts,
  clientTimeWaitThreshold,
  connectRate,
  destinationEvidence,
  destinationsToward,
  reuseApplies,
  reuseReason,
  upstreamOf,
} from '../ephemeral.js';

interface Observed {
  readonly port: number;
  readonly timeWait: number;
  readonly threshold: number;
  readonly destinations: readonly Destination[];
  readonly upstream: Upstream;
  readonly ephemeral: EphemeralPorts | undefined;
  /** connect() may reuse every one of them once it is `holdSeconds` old. */
  readonly reusable: boolean;
  readonly holdSeconds: number;
  readonly activeOpens: CounterChange | undefined;
}

/** Closing with a RST to skip TIME_WAIT: the shortcut people reach for, and what it costs. */
const SO_LINGER_ZERO =
  'Closing with SO_LINGER set to 0 to skip TIME_WAIT is no fix: close() then sends a RST, data still unsent or unacknowledged is lost, and the peer sees "connection reset by peer".';

export const clientSideTimeWait: Check<Observed> = {
  id: 'client-side-time-wait',

  observe: (context) => {
    const sockets = needSockets(context);
    const ephemeral = sockets.ephemeral;
    const activeOpens =
      context.windowSeconds > 0
        ? counterChange(context.first, context.second, context.windowSeconds, {
            group: 'tcp',
            field: 'ActiveOpens',
          })
        : undefined;
    const threshold = clientTimeWaitThreshold(sockets);
    return clientTimeWaitPorts(sockets).map(({ port, timeWait }) => {
      const destinations = destinationsToward(sockets, port);
      // Reusable when every listed destination toward the port says so. A destination whose
      // TIME_WAIT is all reusable already blocks nothing and is not listed: with every blocking
      // destination listed and none toward the port, its TIME_WAIT blocks nothing.
      const everyBlockingListed =
        ephemeral !== undefined && ephemeral.destinations.length === ephemeral.destinationCount;
      const reusable =
        ephemeral !== undefined &&
        destinations.every(reuseApplies) &&
        (destinations.length > 0 ||
          everyBlockingListed ||
          (ephemeral.reuse.twReuse === 1 && ephemeral.reuse.timestamps !== 0));
      return {
        port,
        timeWait,
        threshold,
        destinations,
        upstream: upstreamOf(port, destinations),
        ephemeral,
        reusable,
        holdSeconds:
          reusable && ephemeral !== undefined
            ? ephemeral.reuse.twReuseDelayMs / 1000
            : TIME_WAIT_SECONDS,
        activeOpens,
      };
    });
  },

  severity: ({ reusable }) => (reusable ? 'info' : 'warning'),

  summary: ({ port, timeWait, reusable, holdSeconds }) =>
    `${timeWait} outbound TIME_WAIT sockets toward port ${port}: this host, the client, closes first${reusable ? ` (reusable once ${holdSeconds} s old: they do not exhaust connect(), they bound its rate)` : ''}`,

  evidence: (observed) => {
    const { port, timeWait, threshold, destinations, upstream, ephemeral, reusable } = observed;
    const { holdSeconds, activeOpens } = observed;
    return {
      remotePort: port,
      timeWait,
      threshold,
      reusable: reusable ? 'yes' : 'no',
      destinations: destinations.map(destinationEvidence),
      localBackend: upstream.local ? 'yes' : 'no',
      ...(ephemeral !== undefined && {
        connectionsPerSecondLimit: connectRate(ephemeral.usable, holdSeconds),
        connectionsPerSecondWithoutReuse: connectRate(ephemeral.usable, TIME_WAIT_SECONDS),
      }),
      ...(activeOpens?.perSecond !== undefined && {
        [`${activeOpens.name}.perSecond`]: activeOpens.perSecond,
      }),
    };
  },

  explanation: ({ port, timeWait, ephemeral, reusable, holdSeconds }) => {
    const rate = round(timeWait / TIME_WAIT_SECONDS, 1);
    const ports =
      ephemeral === undefined
        ? ''
        : reusable
          ? ` These TIME_WAIT sockets are reusable: ${reuseReason(ephemeral)}, so they do not make connect() fail with EADDRNOTAVAIL. What they still bound is the rate: about ${connectRate(ephemeral.usable, holdSeconds)} new connections per second per destination (usable ports / ${holdSeconds} s reuse delay), against ${connectRate(ephemeral.usable, TIME_WAIT_SECONDS)} without reuse (usable ports / 60 s).`
          : ` Each of them holds an ephemeral port toward its destination for those 60 s: about ${connectRate(ephemeral.usable, TIME_WAIT_SECONDS)} new connections per second per destination is the most ${ephemeral.usable} usable ports sustain.`;
    return `The side that closes a connection first keeps it in TIME_WAIT for a fixed 60 s. Here that is this host as the client: over the last minute, about ${rate} connections per second to port ${port} were opened and closed instead of reused.${ports} Keeping them open removes both the handshakes and the TIME_WAIT. ${SO_LINGER_ZERO}`;
  },

  fix: ({ upstream }) => upstreamFixes(upstream),
};
