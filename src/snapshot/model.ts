/**
 * The snapshot: one immutable, plain-data picture of a network namespace's TCP state.
 * Plain data (no classes, no Maps) so it crosses a worker boundary by structured clone
 * and serialises to JSON for golden files and `doctor --format json`. Its parts and their
 * types come from the source readers (source-readers.ts); the file types from sources/.
 */

import type { ConnectErrorCounts } from '../sources/connect-errors.js';
import type { SockstatPeaks } from '../sources/sockstat-peaks.js';
import type { TimeWaitReuse } from '../sources/sysctl.js';
import type { TableFileStats } from '../sources/tcp-table.js';
import type { NetnsView } from './netns-round.js';
import type { AggregateLimits } from './socket-accumulator.js';
import type { SnapshotParts, SourceName } from './source-readers.js';

export type { SnapshotParts, SourceName } from './source-readers.js';

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

/** Which table a socket came from: `tcp` is ipv4, `tcp6` is ipv6 (IPv4-mapped included). */
export const FAMILIES = ['ipv4', 'ipv6'] as const;
export type Family = (typeof FAMILIES)[number];

export type StateCounts = Record<TcpState, number>;

export interface SourceStatus {
  readonly success: boolean;
  readonly durationSeconds: number;
  /** Present when success is false; names the path or the reason. */
  readonly error?: string;
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
}

export interface SnapshotHeader {
  readonly procfsRoot: string;
  /** Wall-clock time the sample started, ms since the epoch. */
  readonly timestampMs: number;
  readonly durationSeconds: number;
  /** Status of each enabled source; a disabled source has no entry. */
  readonly sources: Readonly<Partial<Record<SourceName, SourceStatus>>>;
  /**
   * Present when the sysctls came from entering the namespace (a `/proc/<pid>` root): true
   * when it could not be entered and a new namespace's kernel defaults stand in for them.
   */
  readonly sysctlsAssumed?: boolean;
  /**
   * The latest round over the node's other namespaces (--collector.netns): it runs in its
   * own worker on its own schedule and is attached on the main thread.
   */
  readonly netns?: NetnsView;
  /** The connect-errors stream's counts so far (--collector.connect-errors), attached likewise. */
  readonly connectErrors?: ConnectErrorCounts;
  /** The node's sockstat maxima over the peak window, read on their own fast timer. */
  readonly sockstatPeaks?: SockstatPeaks;
}

/** What sources read on the main thread between samples bring: attached to each snapshot. */
export type StreamData = Pick<SnapshotHeader, 'connectErrors' | 'sockstatPeaks'>;

/** Each part is present only when its source succeeded (never stale, never partial). */
export type Snapshot = SnapshotHeader & SnapshotParts;

/** The limits come from the collectors' own flags (ports, ephemeral). */
export interface SampleOptions extends AggregateLimits {
  /** Root of the procfs tree: `/proc` or a captured fixture directory. */
  readonly procfsRoot: string;
  /** Which sources to read (the plan the enabled collectors make); a disabled one is not reported. */
  readonly sources: Readonly<Record<SourceName, boolean>>;
  /** Largest byte count asked of one read(); tests shrink it to prove the line carry-over. */
  readonly readChunkBytes?: number;
}

export function emptyStateCounts(): StateCounts {
  const counts = {} as Record<TcpState, number>;
  for (const state of TCP_STATES) counts[state] = 0;
  return counts;
}
