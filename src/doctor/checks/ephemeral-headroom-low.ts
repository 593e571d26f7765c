/**
 * ephemeral-headroom-low: connect() picks a port per destination, so a destination whose
 * blocking sockets take a large share of the usable ports is close to EADDRNOTAVAIL; with
 * no usable port at all, every connect() without bind() fails.
 */
import type { Destination, EphemeralPorts, SocketTables } from '../../snapshot/model.js';
import type { UdpListeners } from '../../sources/udp-table.js';
import { twReuseFixes, upstreamFixes } from '../advice.js';
import { type Check, needEphemeral, needSockets, percent } from '../check-context.js';
import { round } from '../counters.js';
import {
  connectRate,
  crowdedDestinations,
  describeDestination,
  destinationEvidence,
  reuseApplies,
  reuseReason,
  twReuseWouldHelp,
  upstreamOf,
} from '../ephemeral.js';
import type { FixStep } from '../finding.js';
import { PORT_RANGE } from '../sysctl-names.js';
import { EPHEMERAL_USE_CRITICAL_RATIO } from '../thresholds.js';
import { widerRangeSteps } from '../wider-range.js';

interface Crowding {
  readonly destination: Destination;
  /** Blocked ports toward it against the usable ones. */
  readonly ratio: number;
  readonly left: number;
  readonly connectionsPerSecond: number;
}

interface Observed {
  readonly sockets: SocketTables;
  readonly ephemeral: EphemeralPorts;
  /** ip_local_port_range as `low high`. */
  readonly range: string;
  readonly reserved: readonly (readonly [number, number])[];
  /** UDP ports a wider range must reserve too; undefined when net/udp was not read. */
  readonly udp: UdpListeners | undefined;
  /** The crowded destination; undefined when no port is usable at all. */
  readonly crowding?: Crowding;
}

/** Relief that takes effect for the next connect(): more ports, reuse where it changes something. */
function morePortsNow({ sockets, ephemeral, reserved, udp, crowding }: Observed): FixStep[] {
  const steps = widerRangeSteps({
    sockets,
    rangeLow: ephemeral.rangeLow,
    rangeHigh: ephemeral.rangeHigh,
    reserved,
    udp,
  });
  if (crowding !== undefined && twReuseWouldHelp(crowding.destination))
    steps.push(...twReuseFixes(ephemeral.reuse.timestamps));
  steps.push({
    step: 'Spread connections over more destination ports or addresses, or give this host more source addresses: each (source address, destination address, destination port) has its own set of ephemeral ports',
  });
  return steps;
}

export const ephemeralHeadroomLow: Check<Observed> = {
  id: 'ephemeral-headroom-low',

  observe: (context) => {
    const sockets = needSockets(context);
    const ephemeral = needEphemeral(sockets);
    const portRange = context.second.sysctl?.portRange ?? {
      low: ephemeral.rangeLow,
      high: ephemeral.rangeHigh,
    };
    const base = {
      sockets,
      ephemeral,
      range: `${portRange.low} ${portRange.high}`,
      reserved: context.second.sysctl?.reservedPorts ?? [],
      udp: context.second.udp,
    };
    if (ephemeral.usable === 0) return [base];
    return crowdedDestinations(sockets).map((destination) => ({
      ...base,
      crowding: {
        destination,
        ratio: destination.used / ephemeral.usable,
        left: ephemeral.usable - destination.used,
        connectionsPerSecond: connectRate(ephemeral.usable, destination.holdSeconds),
      },
    }));
  },

  severity: ({ crowding }) =>
    crowding === undefined || crowding.ratio >= EPHEMERAL_USE_CRITICAL_RATIO
      ? 'critical'
      : 'warning',

  summary: ({ ephemeral, range, crowding }) => {
    if (crowding === undefined)
      return `no usable ephemeral ports: ${PORT_RANGE} ${range} is all reserved or listening`;
    const { destination, ratio, left } = crowding;
    return `${describeDestination(destination)}: ${destination.used} of ${ephemeral.usable} usable ephemeral ports blocked for connect() (${percent(ratio)}), ${left} left`;
  },

  evidence: ({ ephemeral, range, crowding }) => {
    if (crowding === undefined) return { usable: 0, [PORT_RANGE]: range };
    return {
      ...destinationEvidence(crowding.destination),
      usable: ephemeral.usable,
      left: crowding.left,
      usedRatio: round(crowding.ratio, 3),
      connectionsPerSecond: crowding.connectionsPerSecond,
      [PORT_RANGE]: range,
    };
  },

  explanation: ({ ephemeral, crowding }) => {
    if (crowding === undefined)
      return 'connect() without bind() has no local port to pick and fails with EADDRNOTAVAIL ("Cannot assign requested address").';
    const { destination, left, connectionsPerSecond: rate } = crowding;
    const holding = reuseApplies(destination)
      ? `${reuseReason(ephemeral)}, so only TIME_WAIT younger than that and other sockets block it: connect() can still take ${left} ports toward it, and a client that closes first can open about ${rate} connections per second to it.`
      : `Each connection this host closes first keeps its port in TIME_WAIT for a fixed 60 s, so one destination sustains about ${rate} new connections per second.`;
    return `connect() picks a local port so that (local address, local port, remote address, remote port) is unique, so the ports run out per destination. Toward ${describeDestination(destination)} ${left} more connect() calls succeed; after that connect() fails with EADDRNOTAVAIL (nginx logs "connect() failed (99: Cannot assign requested address)") and requests fail with 502. ${holding}`;
  },

  stopTheBleeding: morePortsNow,

  fix: ({ crowding }) =>
    crowding === undefined
      ? [{ step: 'Keep the range clear of listeners: reserve them or move them below it' }]
      : upstreamFixes(upstreamOf(crowding.destination.remotePort, [crowding.destination])),
};
