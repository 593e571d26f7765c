/**
 * How connect() uses ephemeral ports, as the checks reason about it: per destination, with
 * TIME_WAIT reuse where the sysctls allow it. The rules are in README.md ("How ephemeral use
 * is counted").
 */
import type { Destination, EphemeralPorts, SocketTables } from '../snapshot/model.js';
import { TIME_WAIT_SECONDS } from '../snapshot/socket-accumulator.js';
import { isLoopback, type Upstream } from './advice.js';
import { round } from './counters.js';
import { TW_REUSE } from './sysctl-names.js';
import {
  CLIENT_TIME_WAIT_MIN,
  CLIENT_TIME_WAIT_USABLE_SHARE,
  EPHEMERAL_USE_WARNING_RATIO,
} from './thresholds.js';

export function describeDestination(destination: Destination): string {
  const remote = destination.remoteAddress.includes(':')
    ? `[${destination.remoteAddress}]`
    : destination.remoteAddress;
  return `${destination.localAddress} -> ${remote}:${destination.remotePort}`;
}

export function destinationEvidence(destination: Destination): Record<string, string | number> {
  return {
    localAddress: destination.localAddress,
    remoteAddress: destination.remoteAddress,
    remotePort: destination.remotePort,
    used: destination.used,
    timeWait: destination.timeWait,
    holdSeconds: destination.holdSeconds,
  };
}

/** TIME_WAIT reuse applies toward it: connect() takes its TIME_WAIT ports after the delay. */
export function reuseApplies(destination: Destination): boolean {
  return destination.holdSeconds < TIME_WAIT_SECONDS;
}

/**
 * New connections per second a destination sustains when this host closes first: each
 * keeps its port blocked for `holdSeconds`, and there are `usable` ports.
 */
export function connectRate(usable: number, holdSeconds: number): number {
  return round(usable / holdSeconds, 1);
}

/** Why reuse applies, in the sysctls' words. */
export function reuseReason(ephemeral: EphemeralPorts): string {
  const delay = `${ephemeral.reuse.twReuseDelayMs / 1000} s`;
  return ephemeral.reuse.twReuse === 1
    ? `${TW_REUSE}=1 reuses TIME_WAIT toward every destination once it is ${delay} old`
    : `${TW_REUSE}=2 reuses TIME_WAIT with a loopback address at either end once it is ${delay} old`;
}

/**
 * tcp_tw_reuse=1 changes something for a destination only where reuse does not apply yet
 * and TIME_WAIT makes up at least half of what blocks connect() toward it.
 */
export function twReuseWouldHelp(destination: Destination): boolean {
  return !reuseApplies(destination) && destination.timeWait * 2 >= destination.used;
}

/** Listening ports in [low, high] that ip_local_reserved_ports does not cover. */
export function unreservedListeners(
  sockets: SocketTables,
  reserved: readonly (readonly [number, number])[],
  low: number,
  high: number,
): number[] {
  return sockets.listeningPorts.filter(
    (port) =>
      port >= low && port <= high && !reserved.some(([from, to]) => port >= from && port <= to),
  );
}

/** Top destinations whose blocking sockets take a large share of the usable ports, worst first. */
export function crowdedDestinations(sockets: SocketTables): Destination[] {
  const ephemeral = sockets.ephemeral;
  if (ephemeral === undefined || ephemeral.usable === 0) return [];
  return ephemeral.destinations.filter(
    (destination) => destination.used / ephemeral.usable >= EPHEMERAL_USE_WARNING_RATIO,
  );
}

export function clientTimeWaitThreshold(sockets: SocketTables): number {
  const usable = sockets.ephemeral?.usable;
  if (usable === undefined || usable === 0) return CLIENT_TIME_WAIT_MIN;
  return Math.max(
    1,
    Math.min(CLIENT_TIME_WAIT_MIN, Math.ceil(usable * CLIENT_TIME_WAIT_USABLE_SHARE)),
  );
}

/** Outbound remote ports with many TIME_WAIT sockets: this host, as the client, closed first. */
export function clientTimeWaitPorts(sockets: SocketTables): { port: number; timeWait: number }[] {
  const threshold = clientTimeWaitThreshold(sockets);
  const ports: { port: number; timeWait: number }[] = [];
  for (const entry of sockets.remotePorts) {
    if (entry.port === 'other' || entry.states.time_wait < threshold) continue;
    ports.push({ port: entry.port, timeWait: entry.states.time_wait });
  }
  return ports.sort((a, b) => b.timeWait - a.timeWait);
}

export function destinationsToward(sockets: SocketTables, port: number): Destination[] {
  return (sockets.ephemeral?.destinations ?? []).filter(
    (destination) => destination.remotePort === port,
  );
}

function isLocalDestination(destination: Destination): boolean {
  return (
    isLoopback(destination.remoteAddress) || destination.remoteAddress === destination.localAddress
  );
}

/** The upstream the advice configures: a port, its addresses, and whether it runs here. */
export function upstreamOf(port: number, destinations: readonly Destination[]): Upstream {
  return {
    port,
    addresses: [...new Set(destinations.map((destination) => destination.remoteAddress))],
    local: destinations.length > 0 && destinations.every(isLocalDestination),
  };
}
