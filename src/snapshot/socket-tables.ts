/**
 * What a walk of a namespace's socket tables gives: states by family, ports, listen queues
 * and the ephemeral-port model. Plain data, like the whole Snapshot (model.ts).
 */
import type { TimeWaitReuse } from '../sources/sysctl.js';
import type { TableFileStats } from '../sources/tcp-table.js';

/** Kernel state codes 0x01..0x0B, in code order (index = code - 1). */
export const TCP_STATES = [
  'established',
  'syn_sent',
  'syn_recv',
  'fin_wait1',
  'fin_wait2',
  'time_wait',
  'close',
  'close_wait',
  'last_ack',
  'listen',
  'closing',
] as const;

export type TcpState = (typeof TCP_STATES)[number];

export const STATE_COUNT = TCP_STATES.length;

/** Index of LISTEN in TCP_STATES (kernel code 0x0A). */
export const LISTEN_INDEX = 9;
/** Index of TIME_WAIT in TCP_STATES (kernel code 0x06). */
export const TIME_WAIT_INDEX = 5;
/** Index of CLOSE_WAIT in TCP_STATES (kernel code 0x08). */
export const CLOSE_WAIT_INDEX = 7;

/** Which table a socket came from: `tcp` is ipv4, `tcp6` is ipv6 (IPv4-mapped included). */
export const FAMILIES = ['ipv4', 'ipv6'] as const;
export type Family = (typeof FAMILIES)[number];

export type StateCounts = Record<TcpState, number>;

/** Stuck CLOSE_WAIT sockets of one port, or of `other` (the sum beyond the bound). */
export interface PortCount {
  readonly port: number | 'other';
  readonly count: number;
}

/**
 * Sockets seen in CLOSE_WAIT in every sample for at least `afterMs`: the peer closed and
 * the program never did. Ports with none are left out; most stuck first.
 */
export interface StuckCloseWait {
  readonly afterMs: number;
  /** By listening local port (bounded like listenPorts). */
  readonly inbound: readonly PortCount[];
  /** By remote port, for sockets whose local port is not listening (bounded like remotePorts). */
  readonly outbound: readonly PortCount[];
}

export interface PortStateCounts {
  /** A port number, or `other` for the sum beyond the bound. */
  readonly port: number | 'other';
  readonly states: StateCounts;
}

export interface Destination {
  /** Local address (IPv4-mapped folded to IPv4), in the usual text form. */
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Sockets that block connect() toward it: every non-LISTEN socket on an in-range,
   * non-reserved, non-listening local port, except TIME_WAIT that the kernel would reuse.
   */
  readonly used: number;
  /** TIME_WAIT sockets toward it, reusable or not. */
  readonly timeWait: number;
  /**
   * How long a connection this host closes first keeps its port blocked toward it: the
   * reuse delay in seconds when TIME_WAIT reuse applies to it, else 60 (TIME_WAIT's length).
   */
  readonly holdSeconds: number;
}

/**
 * Per listening port, its longest accept queue. The queue's limit, min(backlog,
 * net.core.somaxconn), is not in /proc/net/tcp: a LISTEN line's tx_queue is write_seq -
 * snd_una (always 0); only netlink (ss's Send-Q) shows the backlog.
 */
export interface ListenQueue {
  /** A listening port, or `other`: the longest queue of the ports beyond the bound. */
  readonly port: number | 'other';
  /** Connections waiting for accept() (rx_queue of the longest LISTEN line of the port). */
  readonly length: number;
}

export interface EphemeralPorts {
  readonly rangeLow: number;
  readonly rangeHigh: number;
  /**
   * Ports connect() examines (the whole range, or all but its lowest port when the range's
   * size is odd) minus reserved and listening ones among them.
   */
  readonly usable: number;
  /** The worst destination's blocking count: usable - usedMax more connect()s succeed. */
  readonly usedMax: number;
  /**
   * Distinct in-range, non-reserved, non-listening local ports held by any non-LISTEN
   * socket: what a client that bind()s before connect() can no longer get.
   */
  readonly held: number;
  readonly reuse: TimeWaitReuse;
  /** 1 - usedMax / usable (0 when nothing is usable). */
  readonly headroomRatio: number;
  /** The top destinations by blocking count, most blocked first. */
  readonly destinations: readonly Destination[];
  /** How many distinct destinations have at least one blocking socket. */
  readonly destinationCount: number;
}

/** 1 - usedMax / usable, within 0..1; 0 when nothing is usable. */
export function headroomRatio(usable: number, usedMax: number): number {
  return usable > 0 ? Math.min(1, Math.max(0, 1 - usedMax / usable)) : 0;
}

/** Whether connect() has no usable port left toward some destination (used_max >= usable). */
export function isExhausted(ports: Pick<EphemeralPorts, 'usable' | 'usedMax'>): boolean {
  return ports.usedMax >= ports.usable;
}

export interface SocketTables {
  readonly tcp: TableFileStats;
  readonly tcp6: TableFileStats;
  /** Totals over both files. */
  readonly bytesRead: number;
  readonly linesRead: number;
  readonly states: Record<Family, StateCounts>;
  /** Inbound: non-LISTEN sockets whose local port has a LISTEN socket, by that port. */
  readonly listenPorts: readonly PortStateCounts[];
  /** Outbound: sockets whose local port is not listening, by remote port. */
  readonly remotePorts: readonly PortStateCounts[];
  /** The same ports as listenPorts (the same bound), with `other` for the rest. */
  readonly listenQueues: readonly ListenQueue[];
  /** Absent when the port range sysctl could not be read; see ephemeralError. */
  readonly ephemeral?: EphemeralPorts;
  readonly ephemeralError?: string;
  /** Distinct listening ports (both families), ascending. */
  readonly listeningPorts: readonly number[];
  /** Present when the sampler follows CLOSE_WAIT sockets (closeWaitStuckAfter set). */
  readonly closeWaitStuck?: StuckCloseWait;
}

export function emptyStateCounts(): StateCounts {
  const counts = {} as Record<TcpState, number>;
  for (const state of TCP_STATES) counts[state] = 0;
  return counts;
}
