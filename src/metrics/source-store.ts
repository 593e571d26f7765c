/**
 * The one store of the scheduled sources' results: each source's latest result (or error)
 * with its time. Sources publish here on their own schedules; the exposition is served what
 * the store holds when a sample is rendered, and a result older than its source's schedule
 * allows is served as an error, never as fresh numbers (docs/architecture.md).
 */
import type { ScheduledSource, ServedResult, ServedResults } from '../sources/scheduled-source.js';

interface Entry {
  readonly atMs: number;
  readonly result?: unknown;
  readonly error?: string;
  /** Bumped by each publish, so that a renderer is sent what changed only. */
  readonly version: number;
}

type Listener = (source: string) => void;

export class SourceStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxAges = new Map<string, number>();
  /** What the renderer was last sent of each source: its version, and whether it was stale. */
  private readonly sent = new Map<string, string>();
  private readonly listeners = new Set<Listener>();
  private version = 0;

  /** How old `source`'s result may get before it is not served (unbounded until declared). */
  declare(source: ScheduledSource<unknown>, maxAgeMs: number): void {
    this.maxAges.set(source.name, maxAgeMs);
  }

  publish<Result>(source: ScheduledSource<Result>, result: Result, atMs = Date.now()): void {
    this.set(source.name, { atMs, result, version: ++this.version });
  }

  /**
   * The latest result still holds as of `atMs`: it stays fresh, and neither the renderer nor
   * the listeners hear of it (an unchanged reading costs the exposition nothing).
   */
  renew(source: ScheduledSource<unknown>, atMs = Date.now()): void {
    const entry = this.entries.get(source.name);
    if (entry !== undefined) this.entries.set(source.name, { ...entry, atMs });
  }

  fail(source: ScheduledSource<unknown>, error: string, atMs = Date.now()): void {
    this.set(source.name, { atMs, error, version: ++this.version });
  }

  /** The latest result of `source` whatever its age, for another source that builds on it. */
  latest<Result>(source: ScheduledSource<Result>): Result | undefined {
    // Published under this name by publish(), of the declared type.
    return this.entries.get(source.name)?.result as Result | undefined;
  }

  /** Calls `listener` with the source's name after each publish or failure; returns the unsubscribe. */
  onPublish(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every source's latest result as served at `nowMs`. */
  served(nowMs = Date.now()): ServedResults {
    const served: Record<string, ServedResult> = {};
    for (const name of this.entries.keys()) served[name] = this.serve(name, nowMs);
    return served;
  }

  /** What changed (published, or gone stale) since the previous call: a renderer keeps the rest. */
  changes(nowMs = Date.now()): ServedResults | undefined {
    let changed: Record<string, ServedResult> | undefined;
    for (const [name, entry] of this.entries) {
      const served = this.serve(name, nowMs);
      const key = `${entry.version}/${served.error === entry.error}`;
      if (this.sent.get(name) === key) continue;
      this.sent.set(name, key);
      changed ??= {};
      changed[name] = served;
    }
    return changed;
  }

  /** The renderer is gone: its successor is sent everything anew. */
  resend(): void {
    this.sent.clear();
  }

  private set(name: string, entry: Entry): void {
    this.entries.set(name, entry);
    for (const listener of this.listeners) listener(name);
  }

  private serve(name: string, nowMs: number): ServedResult {
    const entry = this.entries.get(name) as Entry;
    const { atMs } = entry;
    const maxAgeMs = this.maxAges.get(name) ?? Number.POSITIVE_INFINITY;
    if (entry.error === undefined && nowMs - atMs > maxAgeMs) {
      const age = ((nowMs - atMs) / 1000).toFixed(1);
      return {
        atMs,
        error: `stale: its latest result is ${age} s old, more than the ${maxAgeMs / 1000} s its schedule allows`,
      };
    }
    return entry.error === undefined
      ? { atMs, result: entry.result }
      : { atMs, error: entry.error };
  }
}
