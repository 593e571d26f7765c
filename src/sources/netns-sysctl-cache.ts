/**
 * Namespace sysctls by namespace inode, each read by entering its namespace (netns-sysctl.ts)
 * when first asked for and again once it is older than the refresh interval. get() never
 * waits: until a namespace has been read, and after a read failed, it answers with a new
 * namespace's defaults marked assumed. At most `concurrency` children run at once, one read
 * per namespace at a time; the cache holds at most `maxNamespaces` (least recently asked
 * for goes first) and evictExcept() drops namespaces that are gone.
 */
import { performance } from 'node:perf_hooks';
import {
  assumedNamespaceSysctls,
  type NamespaceReadFailure,
  NamespaceSysctlError,
  type NamespaceSysctls,
  namespaceEntryProblem,
  readNamespaceSysctls,
} from './netns-sysctl.js';

export interface NamespaceSysctlCacheOptions {
  /** A namespace's values are read again once older than this. */
  readonly refreshMs: number;
  /** Namespaces kept; beyond, the least recently asked for is dropped. Default 4096. */
  readonly maxNamespaces?: number;
  /** nsenter children at once. Default 4. */
  readonly concurrency?: number;
  /** One read's limit; its child is killed after it. Default 5 s. */
  readonly timeoutMs?: number;
  /**
   * Called the first time values are assumed for each kind of failure (so a log says it once,
   * not every round), with why.
   */
  readonly onAssumed?: (reason: string, failure: NamespaceReadFailure) => void;
  /** Seams for tests: the reader, the capability check and the clock. */
  readonly read?: (nsFile: string, signal: AbortSignal) => Promise<NamespaceSysctls>;
  readonly entryProblem?: () => string | undefined;
  readonly nowMs?: () => number;
}

interface Entry {
  /** The namespace file last asked for (a process of the namespace). */
  nsFile: string;
  /** The latest read's outcome, undefined before the first one ends. */
  result?: NamespaceSysctls;
  failure?: NamespaceReadFailure | undefined;
  /** When the latest read ended. */
  readAtMs: number;
  /** The read in flight or queued. */
  pending?: Promise<void> | undefined;
}

interface QueuedRead {
  readonly nsInode: number;
  readonly entry: Entry;
  readonly done: () => void;
}

export interface NamespaceSysctlCacheStats {
  /** Reads that ended, and of them those that failed. */
  readonly reads: number;
  readonly failures: number;
  readonly namespaces: number;
}

/** A namespace whose read failed (not denied) is tried again after this, or when its file changes. */
const FAILED_RETRY_MS = 10_000;

export class NamespaceSysctlCache {
  private readonly entries = new Map<number, Entry>();
  private readonly queue: QueuedRead[] = [];
  private running = 0;
  private reads = 0;
  private failures = 0;
  private readonly reported = new Set<NamespaceReadFailure>();
  private readonly abort = new AbortController();
  /** Set when no read can ever succeed in this process; then no child is started. */
  private unavailable: string | undefined;
  private readonly maxNamespaces: number;
  private readonly concurrency: number;
  private readonly read: (nsFile: string, signal: AbortSignal) => Promise<NamespaceSysctls>;
  private readonly nowMs: () => number;

  constructor(private readonly options: NamespaceSysctlCacheOptions) {
    this.maxNamespaces = options.maxNamespaces ?? 4096;
    this.concurrency = options.concurrency ?? 4;
    const timeoutMs = options.timeoutMs ?? 5_000;
    this.read =
      options.read ?? ((nsFile, signal) => readNamespaceSysctls(nsFile, { timeoutMs, signal }));
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.unavailable = (options.entryProblem ?? namespaceEntryProblem)();
  }

  /**
   * The namespace's latest values, or a new namespace's defaults marked assumed while it has
   * not been read or its latest read failed. Starts a read when there is none yet or it is
   * due; never waits for it.
   */
  get(nsInode: number, nsFile: string): NamespaceSysctls {
    if (this.unavailable !== undefined) return this.assume(this.unavailable, 'unavailable');
    const entry = this.touch(nsInode, nsFile);
    if (this.due(entry)) void this.schedule(nsInode, entry);
    return entry.result ?? assumedNamespaceSysctls('not read yet');
  }

  /** Like get(), but waits for the read it starts or that is running: for first use. */
  async fresh(nsInode: number, nsFile: string): Promise<NamespaceSysctls> {
    if (this.unavailable === undefined) {
      const entry = this.touch(nsInode, nsFile);
      if (this.due(entry)) await this.schedule(nsInode, entry);
      else await entry.pending;
    }
    return this.get(nsInode, nsFile);
  }

  /** Reads every namespace whose values are due; resolves when those reads have ended. */
  async refresh(): Promise<void> {
    if (this.unavailable !== undefined) return;
    const reads: Promise<void>[] = [];
    for (const [nsInode, entry] of this.entries) {
      if (this.due(entry)) reads.push(this.schedule(nsInode, entry));
    }
    await Promise.all(reads);
  }

  /** Drops every namespace but these (the ones that still exist). */
  evictExcept(nsInodes: Iterable<number>): void {
    const keep = new Set(nsInodes);
    for (const nsInode of this.entries.keys()) {
      if (!keep.has(nsInode)) this.entries.delete(nsInode);
    }
  }

  get stats(): NamespaceSysctlCacheStats {
    return { reads: this.reads, failures: this.failures, namespaces: this.entries.size };
  }

  /** Kills the children in flight and starts no more. */
  close(): void {
    this.unavailable ??= 'closed';
    this.queue.length = 0;
    this.abort.abort();
  }

  private touch(nsInode: number, nsFile: string): Entry {
    let entry = this.entries.get(nsInode);
    if (entry === undefined) {
      entry = { nsFile, readAtMs: -Infinity };
    } else {
      // Re-inserted: a Map iterates in insertion order, so the first is the least recent.
      this.entries.delete(nsInode);
      if (entry.nsFile !== nsFile && entry.failure !== undefined) entry.readAtMs = -Infinity;
      entry.nsFile = nsFile;
    }
    this.entries.set(nsInode, entry);
    if (this.entries.size > this.maxNamespaces) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
    return entry;
  }

  private due(entry: Entry): boolean {
    if (entry.pending !== undefined) return false;
    const wait =
      entry.failure === 'failed'
        ? Math.min(FAILED_RETRY_MS, this.options.refreshMs)
        : this.options.refreshMs;
    return this.nowMs() - entry.readAtMs >= wait;
  }

  private schedule(nsInode: number, entry: Entry): Promise<void> {
    entry.pending ??= new Promise<void>((done) => {
      this.queue.push({ nsInode, entry, done });
      this.pump();
    });
    return entry.pending;
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.running++;
      void this.readInto(next).finally(() => {
        this.running--;
        next.entry.pending = undefined;
        next.done();
        this.pump();
      });
    }
  }

  private async readInto({ nsInode, entry }: QueuedRead): Promise<void> {
    // Evicted while queued: nobody will ask for it.
    if (this.entries.get(nsInode) !== entry || this.unavailable !== undefined) return;
    try {
      entry.result = await this.read(entry.nsFile, this.abort.signal);
      entry.failure = undefined;
    } catch (error) {
      if (this.abort.signal.aborted) return;
      const failure = error instanceof NamespaceSysctlError ? error.failure : 'failed';
      const reason = error instanceof Error ? error.message : String(error);
      this.failures++;
      entry.failure = failure;
      entry.result = this.assume(reason, failure);
      if (failure === 'unavailable') this.unavailable = reason;
    }
    this.reads++;
    entry.readAtMs = this.nowMs();
  }

  private assume(reason: string, failure: NamespaceReadFailure): NamespaceSysctls {
    if (!this.reported.has(failure) && reason !== 'closed') {
      this.reported.add(failure);
      this.options.onAssumed?.(reason, failure);
    }
    return assumedNamespaceSysctls(reason);
  }
}
