/**
 * The snapshot: one immutable, plain-data picture of a network namespace's TCP state.
 * Plain data (no classes, no Maps) so it crosses a worker boundary by structured clone
 * and serialises to JSON for golden files and `doctor --format json`. Its parts and their
 * types come from the source readers (source-readers.ts); the file types from sources/.
 */

import type { ConnectErrorCounts } from '../sources/connect-errors.js';
import type { SockstatPeaks } from '../sources/sockstat-peaks.js';
import type { NetnsView } from './netns-view.js';
import type { SnapshotParts, SourceName } from './source-readers.js';

export {
  type Destination,
  type EphemeralPorts,
  emptyStateCounts,
  FAMILIES,
  type Family,
  LISTEN_INDEX,
  type ListenQueue,
  type PortStateCounts,
  type SocketTables,
  STATE_COUNT,
  type StateCounts,
  TCP_STATES,
  type TcpState,
  TIME_WAIT_INDEX,
} from './socket-tables.js';
export type { SampleOptions, SnapshotParts, SourceName } from './source-readers.js';

export interface SourceStatus {
  readonly success: boolean;
  readonly durationSeconds: number;
  /** Present when success is false; names the path or the reason. */
  readonly error?: string;
}

export interface SnapshotHeader {
  readonly procfsRoot: string;
  /** Wall-clock time the sample started, ms since the epoch. */
  readonly timestampMs: number;
  readonly durationSeconds: number;
  /** The inode of the sampled namespace (the node's `netns` label); absent when unreadable. */
  readonly netnsInode?: number;
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
  /** Each known namespace's (--collector.netns), by its inode, read on the same timer. */
  readonly namespaceSockstatPeaks?: Readonly<Record<string, SockstatPeaks>>;
}

/** What sources read on the main thread between samples bring: attached to each snapshot. */
export type StreamData = Pick<
  SnapshotHeader,
  'connectErrors' | 'sockstatPeaks' | 'namespaceSockstatPeaks'
>;

/** Each part is present only when its source succeeded (never stale, never partial). */
export type Snapshot = SnapshotHeader & SnapshotParts;
