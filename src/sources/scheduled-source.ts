/**
 * The source contract: every source declares when it is read (its schedule), and a collector
 * names what it reads by these declarations (`sources` in its definition). The engine's
 * sources are read by the node sample (their declarations are made beside their readers,
 * `snapshot/source-readers.ts`); every other source's results reach the exposition through
 * one store that keeps each source's latest result with its time, and
 * `commands/scheduled-sources.ts` lists what starts each one (docs/architecture.md, "Adding a
 * scheduled source").
 */

/** When a source is read. */
export type Schedule =
  /** With every node sample (the engine's sources, and sources read just after it). */
  | { readonly kind: 'sample' }
  /** On its own interval: `flag` is the collector option (a duration in ms) that sets it. */
  | { readonly kind: 'interval'; readonly flag: string }
  /** Once per namespace round (--collector.netns), just after the round. */
  | { readonly kind: 'round' }
  /** Read continuously; it publishes at least every `heartbeatMs`, changed or not. */
  | { readonly kind: 'stream'; readonly heartbeatMs: number };

/** A source as its collector names it: a name, a schedule and (as a type) its result. */
export interface ScheduledSource<Result, Name extends string = string> {
  readonly name: Name;
  readonly schedule: Schedule;
  /** Whether `--once` reads it too (and waits for its first result before printing). */
  readonly once: boolean;
  /** Never set: carries the result type from the declaration to the collector and the store. */
  readonly result?: Result;
}

export function scheduledSource<Result, Name extends string = string>(
  name: Name,
  schedule: Schedule,
  once = false,
): ScheduledSource<Result, Name> {
  return { name, schedule, once };
}

/** A source's latest result as served: its time, and either its result or why there is none. */
export interface ServedResult<Result = unknown> {
  /** Wall-clock time of the result, ms since the epoch. */
  readonly atMs: number;
  readonly result?: Result;
  /** The source failed, or its latest result is older than its schedule allows. */
  readonly error?: string;
}

/** Every scheduled source's latest result, by source name, attached to a snapshot. */
export type ServedResults = Readonly<Record<string, ServedResult>>;

/** The latest result of `source` in `results`, when it is fresh and did not fail. */
export function resultOf<Result>(
  results: ServedResults | undefined,
  source: ScheduledSource<Result>,
): Result | undefined {
  const served = results?.[source.name];
  // The store keeps a source's results under its name, of its declared type.
  return served?.error === undefined ? (served?.result as Result | undefined) : undefined;
}

/** Why `source` has no result in `results`, when it failed or went stale. */
export function errorOf(
  results: ServedResults | undefined,
  source: ScheduledSource<unknown>,
): string | undefined {
  return results?.[source.name]?.error;
}
