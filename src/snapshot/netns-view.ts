/**
 * A round over the node's other network namespaces as data (netns-round.ts makes it):
 * plain, like a Snapshot, so it crosses the worker boundary by structured clone.
 */
import type { ConntrackStats } from '../sources/conntrack-stats.js';
import type { NamespaceOwner } from '../sources/netns-owner.js';
import type { NetstatCounters } from '../sources/netstat.js';
import type { Sockstat } from '../sources/sockstat.js';
import type { EphemeralPorts, Family, StateCounts } from './socket-tables.js';

export interface NamespaceSample {
  /** The `netns` label. */
  readonly inode: number;
  readonly pid: number;
  readonly process: string;
  readonly owner: NamespaceOwner;
  /** From the latest walk of its tables (walkTimestampMs), this round's or an earlier one. */
  readonly states: Record<Family, StateCounts>;
  /** Sockets of every family and state: the ranking for --collector.netns.max. */
  readonly socketCount: number;
  /**
   * This round's walk's figures; without a walk this round, the last walk's with usable,
   * used_max, held and headroom bounded by this round's counters (netns-bound.ts).
   */
  readonly ephemeral: EphemeralPorts;
  /**
   * Rounds, since this worker first saw the namespace, in which it had a destination with no
   * usable port left (isExhausted): tcpstate_ephemeral_exhausted_samples_total.
   */
  readonly exhaustedRounds: number;
  /** When the tables behind states and ephemeral were walked, ms since the epoch. */
  readonly walkTimestampMs: number;
  /**
   * Its net/sockstat(6), read every round in O(1), with the per-namespace fields only (inuse,
   * and tw on the TCP line); absent when the TCP line lacks inuse or tw.
   */
  readonly sockstat?: Sockstat;
  /** With --collector.conntrack, where the namespace has net/stat/nf_conntrack. */
  readonly conntrack?: Omit<ConntrackStats, 'limit'>;
  readonly netstat: NetstatCounters;
  /** EXPORTED_NAMESPACE_SYSCTLS that are present, by name. */
  readonly sysctls: Readonly<Record<string, number>>;
  /** The sysctls are a new namespace's defaults: this one's could not be read. */
  readonly sysctlsAssumed: boolean;
}

export interface NamespaceFailure {
  readonly inode: number;
  readonly pid: number;
  readonly error: string;
}

/** Plain data, like a Snapshot: it crosses the worker boundary by structured clone. */
export interface NetnsRound {
  readonly timestampMs: number;
  readonly durationSeconds: number;
  /** At most `max`, most sockets first. */
  readonly namespaces: readonly NamespaceSample[];
  /** Read but beyond `max`. */
  readonly dropped: number;
  /** Namespaces whose tables this round walked (the others are bounded by their sockstat). */
  readonly walked: number;
  /**
   * Walks that could wait, left to the next round past DEFERRABLE_WALKS_BUDGET_MS: a
   * namespace not yet walked is not in this round, one walked before keeps its bounds.
   */
  readonly deferred: number;
  /** Namespaces whose process exited (or became unreadable) mid-round. */
  readonly failures: readonly NamespaceFailure[];
  /** Set when the round could not run at all (the procfs root is unreadable). */
  readonly error?: string;
  /** Said once, for the log: why namespace sysctls are assumed (no CAP_SYS_ADMIN...). */
  readonly notices?: readonly string[];
}

/** The latest round as scrapes see it, attached to the snapshot on the main thread. */
export interface NetnsView {
  readonly round: NetnsRound;
  /** Namespaces failed since start: sum of every round's failures. */
  readonly readFailures: number;
}
