/**
 * bind-first-ports-low: clients that bind() before connect() get a port no socket holds,
 * for any destination (the kernel skips ports whose bind bucket came from bind()), so
 * their limit is the host-wide held count, not the per-destination one.
 */
import type { EphemeralPorts } from '../../snapshot/model.js';
import { type Check, needEphemeral, needSockets, percent } from '../check-context.js';
import { round } from '../counters.js';
import { BIND_FIRST_HELD_INFO_RATIO, BIND_FIRST_HELD_WARNING_RATIO } from '../thresholds.js';

interface Observed {
  readonly ephemeral: EphemeralPorts;
  /** Held ports against the usable ones. */
  readonly ratio: number;
  /** Ports a client that binds first is still sure of. */
  readonly left: number;
}

export const bindFirstPortsLow: Check<Observed> = {
  id: 'bind-first-ports-low',

  observe: (context) => {
    const ephemeral = needEphemeral(needSockets(context));
    const { usable, held, usedMax } = ephemeral;
    if (usable === 0) return [];
    const ratio = held / usable;
    // When one destination holds them all, ephemeral-headroom-low already tells the story.
    if (ratio < BIND_FIRST_HELD_INFO_RATIO || held <= usedMax) return [];
    return [{ ephemeral, ratio, left: Math.max(0, usable - held) }];
  },

  // Never critical: /proc cannot show whether any client binds first.
  severity: ({ ratio }) => (ratio >= BIND_FIRST_HELD_WARNING_RATIO ? 'warning' : 'info'),

  summary: ({ ephemeral: { held, usable }, ratio, left }) =>
    `${held} of ${usable} usable ephemeral ports held (${percent(ratio)}): a client that binds before connect() is sure of only ${left} more, for any destination`,

  evidence: ({ ephemeral: { held, usable, usedMax }, ratio, left }) => ({
    held,
    usable,
    left,
    heldRatio: round(ratio, 3),
    usedMax,
    plainConnectLeft: usable - usedMax,
  }),

  explanation: ({ ephemeral: { usable, usedMax }, left }) =>
    `Plain connect() only needs its 4-tuple to be unique, so toward the busiest destination it can still get ${usable - usedMax} ports. A client that calls bind(address, 0) before connect() (Go's Dialer.LocalAddr, Java's bind(address, 0), Python's source_address, C's bind(ip, 0); not nginx proxy_bind or HAProxy source without a port, which set IP_BIND_ADDRESS_NO_PORT) must pick the port before it knows the destination, and bind() skips every port another socket holds, TIME_WAIT included; SO_REUSEADDR does not change that (only net.ipv4.ip_autobind_reuse=1 does, once no port is free): it is sure of only ${left} more, and then bind() fails with EADDRINUSE. Its ports are then skipped by plain connect() toward every destination too. /proc cannot show which clients bind first; this matters only if some do.`,

  stopTheBleeding: () => [
    {
      step: "Find the clients that bind first: list the outbound connections with their processes, then look in those programs' configuration for a source or bind address",
      lines: ['ss -tnp state established'],
    },
  ],

  fix: () => [
    {
      step: 'Let the kernel pick the port at connect() time: set IP_BIND_ADDRESS_NO_PORT before bind() (nginx proxy_bind and HAProxy source do when given only an address; Go, Java and Python clients given a local address do not); bind() then takes only the address, and connect() chooses the port per destination as plain connect() does',
      lines: ['setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));'],
    },
    {
      step: 'Or drop the bind() where a source address is not needed, or spread the clients over more source addresses',
    },
  ],
};
