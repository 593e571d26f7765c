/**
 * bind-first-ports-low: clients that bind() before connect() get a port no socket holds,
 * for any destination (the kernel skips ports whose bind bucket came from bind()), so
 * their limit is the host-wide held count, not the per-destination one.
 */
import { type Check, finding, needSockets, Skip } from '../check-context.js';
import { round } from '../counters.js';
import { BIND_FIRST_HELD_INFO_RATIO, BIND_FIRST_HELD_WARNING_RATIO } from '../thresholds.js';

export const bindFirstPortsLow: Check = (context) => {
  const sockets = needSockets(context);
  const ephemeral = sockets.ephemeral;
  if (ephemeral === undefined)
    throw new Skip(`ephemeral ports unknown: ${sockets.ephemeralError ?? 'no port range'}`);
  const { usable, held, usedMax } = ephemeral;
  if (usable === 0) return [];
  const ratio = held / usable;
  // When one destination holds them all, ephemeral-headroom-low already tells the story.
  if (ratio < BIND_FIRST_HELD_INFO_RATIO || held <= usedMax) return [];
  const left = Math.max(0, usable - held);
  return [
    finding('bind-first-ports-low', ratio >= BIND_FIRST_HELD_WARNING_RATIO ? 'warning' : 'info', {
      summary: `${held} of ${usable} usable ephemeral ports held (${round(ratio * 100, 1)}%): a client that binds before connect() is sure of only ${left} more, for any destination`,
      evidence: {
        held,
        usable,
        left,
        heldRatio: round(ratio, 3),
        usedMax,
        plainConnectLeft: usable - usedMax,
      },
      explanation: `Plain connect() only needs its 4-tuple to be unique, so toward the busiest destination it can still get ${usable - usedMax} ports. A client that calls bind() first (HAProxy "source", nginx "proxy_bind", a Java or Go client given a local address) must pick the port before it knows the destination, and bind() skips the ports other sockets hold (TIME_WAIT included, unless SO_REUSEADDR lets it share them): it is sure of only ${left} more, and then bind() fails with EADDRINUSE. /proc cannot show which clients bind first; this matters only if some do.`,
      stopTheBleeding: [
        {
          step: "Find the clients that bind first: list the outbound connections with their processes, then look in those programs' configuration for a source or bind address",
          lines: ['ss -tnp state established'],
        },
      ],
      fix: [
        {
          step: 'Let the kernel pick the port at connect() time: set IP_BIND_ADDRESS_NO_PORT before bind() (check whether your client does when given only an address); bind() then takes only the address, and connect() chooses the port per destination as plain connect() does',
          lines: ['setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));'],
        },
        {
          step: 'Or drop the bind() where a source address is not needed, or spread the clients over more source addresses',
        },
      ],
    }),
  ];
};
