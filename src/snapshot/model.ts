/**
 * The snapshot: one immutable, plain-data picture of a network namespace's TCP state.
 * Plain data (no classes, no Maps) so it crosses a worker boundary by structured clone
 * and serialises to JSON for golden files and `doctor --format json`. Its parts and their
 * types come from the source readers (source-readers.ts); the file types from sources/.
 */

import type { ServedResults } from '../sources/scheduled-source.js';
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
   * The scheduled sources' latest results (the netns rounds, the connect-errors stream, the
   * sockstat fast readings...), read on their own schedules and attached on the main thread.
   */
  readonly scheduled?: ServedResults;
}

/** Each part is present only when its source succeeded (never stale, never partial). */
export type Snapshot = SnapshotHeader & SnapshotParts;
