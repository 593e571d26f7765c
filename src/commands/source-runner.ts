/**
 * The one loop that starts the sources the enabled collectors name besides the engine's, and
 * stops them together, for the daemon and `--once` (`CollectorSet.startedSources` says which):
 * a starter says how to run each (scheduled-sources.ts lists them), and each result goes to
 * the one store (docs/architecture.md, "Adding a scheduled source").
 */
import { NETNS_ROUNDS } from '../collectors/netns.js';
import type { ExporterConfig } from '../config/flags.js';
import type { Logger } from '../log.js';
import type { SourceStore } from '../metrics/source-store.js';
import { sampleTimeoutMs } from '../sampler/worker-sampler.js';
import type { Schedule, ScheduledSource } from '../sources/scheduled-source.js';

export interface SourceContext<Result> {
  readonly config: ExporterConfig;
  readonly logger: Logger;
  /** `serve` runs until stopped; `once` publishes one result (`--once`), then is stopped. */
  readonly mode: 'serve' | 'once';
  /** An `interval` source's interval, from its flag; otherwise the period its results age by. */
  readonly intervalMs: number;
  /** The other sources' latest results, for a source that builds on one (store.latest). */
  readonly store: Pick<SourceStore, 'latest'>;
  publish(result: Result): void;
  /** The latest result still holds: fresh as of now, at no cost to the exposition. */
  renew(): void;
  fail(error: string): void;
}

export interface RunningSource {
  /** A `sample` or `round` source reads now: the loop calls it after each sample or round. */
  read?(): void;
  /** Resolves false when a thread of it is still blocked in the kernel. */
  stop(): Promise<boolean> | undefined;
}

/** How a scheduled source runs: one per source, in scheduled-sources.ts. */
export interface SourceStarter<Result> {
  readonly source: ScheduledSource<Result>;
  start(context: SourceContext<Result>): RunningSource;
}

/** Keeps the source's result type between the declaration and `start`. */
export function defineStarter<Result>(starter: SourceStarter<Result>): SourceStarter<Result> {
  return starter;
}

export interface RunningSources {
  /** Tells the `sample` sources that a node sample was taken. */
  afterSample(): void;
  /** Resolves once every started source has published (or failed) once. */
  readonly ready: Promise<void>;
  /** Stops every source at once; false when a thread of one is still blocked. */
  stop(): Promise<boolean>;
}

export interface RunOptions {
  readonly config: ExporterConfig;
  readonly logger: Logger;
  readonly store: SourceStore;
  readonly mode: 'serve' | 'once';
  /** What to start (`startedSources` of the enabled collectors), and the starters (the registry's; tests add fakes). */
  readonly sources: readonly ScheduledSource<unknown>[];
  readonly starters: readonly SourceStarter<unknown>[];
  /** Where an `interval` schedule's flag is read: the collectors' options. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** The period a source's results are renewed at: how old they may get follows from it. */
function periodMs(schedule: Schedule, config: ExporterConfig, options: object): number {
  const option = (flag: string): number => (options as Record<string, number>)[flag] as number;
  switch (schedule.kind) {
    case 'sample':
      return config.sampleIntervalMs;
    case 'interval':
      return option(schedule.flag);
    case 'round':
      return option((NETNS_ROUNDS.schedule as { flag: string }).flag);
    case 'stream':
      return schedule.heartbeatMs;
  }
}

/**
 * A result is served while younger than two periods plus the time a worker may take before it
 * is given up (sampleTimeoutMs): a source that is due, runs slow and times out still publishes
 * (a result or a failure) within it. Older, the source has stopped renewing it.
 */
export function maxAgeMs(period: number): number {
  return 2 * period + sampleTimeoutMs(period);
}

export function startScheduledSources(run: RunOptions): RunningSources {
  const options = run.options ?? run.config.collectorOptions;
  const wanted = new Set(run.sources);
  const starters = run.starters.filter((starter) =>
    wanted.has(starter.source as ScheduledSource<unknown>),
  );
  const hasRounds = starters.some((starter) => starter.source === NETNS_ROUNDS);
  // A round source has no rounds to follow without the netns collector.
  const runnable = starters.filter(
    (starter) => starter.source.schedule.kind !== 'round' || hasRounds,
  );
  const pending = new Set(runnable.map((starter) => starter.source.name));
  let settle = (): void => {};
  const ready = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const running: { readonly schedule: Schedule; readonly task: RunningSource }[] = [];
  const unsubscribe = run.store.onPublish((name) => {
    pending.delete(name);
    if (pending.size === 0) settle();
    if (name !== NETNS_ROUNDS.name) return;
    for (const { schedule, task } of running) if (schedule.kind === 'round') task.read?.();
  });
  if (pending.size === 0) settle();
  for (const starter of runnable) {
    const { source } = starter;
    const period = periodMs(source.schedule, run.config, options);
    run.store.declare(source, maxAgeMs(period));
    const task = starter.start({
      config: run.config,
      logger: run.logger,
      mode: run.mode,
      intervalMs: period,
      store: run.store,
      publish: (result) => run.store.publish(source, result),
      renew: () => run.store.renew(source),
      fail: (error) => run.store.fail(source, error),
    });
    running.push({ schedule: source.schedule, task });
  }
  let stopped = false;
  return {
    afterSample() {
      // A sample that ends after the stop reads nothing more.
      if (stopped) return;
      for (const { schedule, task } of running) if (schedule.kind === 'sample') task.read?.();
    },
    ready,
    async stop() {
      stopped = true;
      unsubscribe();
      // Every stop() first (a stream's tracefs instance goes at once), then their threads.
      const ended = await Promise.all(running.map(({ task }) => task.stop()));
      return ended.every((one) => one !== false);
    },
  };
}
