/**
 * What a list of collectors gives the rest of the program: their names, their flags (the
 * `--collector.<name>` switches, then each one's own flags), the sources a sample must read
 * for the enabled ones and those started apart, and each enabled collector's status in a
 * snapshot. Built from the registry's list, or from any list in tests.
 */
import type { BooleanFlagSpec, FlagTable, FlagValues } from '../cli/flag-parser.js';
import type { Snapshot, SourceName } from '../snapshot/model.js';
import { isEngineSource, SOURCE_NAMES } from '../snapshot/source-readers.js';
import type { ScheduledSource } from '../sources/scheduled-source.js';
import type { CollectorDefinition } from './collector.js';

export type AnyCollector = CollectorDefinition<string, FlagTable, unknown>;

type UnionToIntersection<Union> = (Union extends unknown ? (arg: Union) => void : never) extends (
  arg: infer Intersection,
) => void
  ? Intersection
  : never;

/** `--[no-]collector.<name>` for each name, keyed by the flag's name. */
export type EnableFlags<Name extends string> = {
  readonly [N in Name as `collector.${N}`]: BooleanFlagSpec;
};

/** Every collector's own flags in one table. */
export type OptionFlags<List extends readonly AnyCollector[]> = UnionToIntersection<
  List[number]['flags']
> &
  object;

export interface CollectorStatus<Name extends string = string> {
  readonly name: Name;
  readonly success: boolean;
  /** Time its sources took in the sample. */
  readonly durationSeconds: number;
  readonly error?: string;
}

export interface CollectorSet<List extends readonly AnyCollector[]> {
  readonly collectors: List;
  readonly names: readonly List[number]['name'][];
  readonly enableFlags: EnableFlags<List[number]['name']>;
  readonly optionFlags: OptionFlags<List>;
  /** Which collectors the parsed enable flags switch on. */
  enabled(
    values: FlagValues<EnableFlags<List[number]['name']>>,
  ): Record<List[number]['name'], boolean>;
  /** The sample plan: an engine source is read when an enabled collector names it. */
  sourcePlan(enabled: Readonly<Record<List[number]['name'], boolean>>): Record<SourceName, boolean>;
  /**
   * The other sources the enabled collectors name, each once: the runner starts them (with
   * `--once`, those whose declaration says `once`).
   */
  startedSources(
    enabled: Readonly<Record<List[number]['name'], boolean>>,
    mode: 'serve' | 'once',
  ): ScheduledSource<unknown>[];
  /** The enabled collectors that read an engine source: the node sample decides their health. */
  sampled(
    enabled: Readonly<Record<List[number]['name'], boolean>>,
  ): Record<List[number]['name'], boolean>;
  /** Success, duration and error of each enabled collector in a snapshot. */
  statuses(
    snapshot: Snapshot,
    enabled: Readonly<Record<List[number]['name'], boolean>>,
  ): CollectorStatus<List[number]['name']>[];
}

export function collectorSet<const List extends readonly AnyCollector[]>(
  collectors: List,
): CollectorSet<List> {
  type Name = List[number]['name'];
  const names = collectors.map((collector) => collector.name as Name);
  const enableFlags: Record<string, BooleanFlagSpec> = {};
  const optionFlags: Record<string, FlagTable[string]> = {};
  for (const collector of collectors) {
    enableFlags[`collector.${collector.name}`] = {
      name: `collector.${collector.name}`,
      kind: 'boolean',
      default: collector.enabledByDefault,
      help: collector.help,
    };
  }
  for (const collector of collectors) Object.assign(optionFlags, collector.flags);

  return {
    collectors,
    names,
    // Built from the list above, key by key, as the mapped types describe.
    enableFlags: enableFlags as EnableFlags<Name>,
    optionFlags: optionFlags as OptionFlags<List>,
    enabled(values) {
      const flags = values as Readonly<Record<string, boolean>>;
      const on = {} as Record<Name, boolean>;
      for (const name of names) on[name] = flags[`collector.${name}`] === true;
      return on;
    },
    sourcePlan(enabled) {
      const plan = Object.fromEntries(SOURCE_NAMES.map((name) => [name, false])) as Record<
        SourceName,
        boolean
      >;
      for (const collector of collectors) {
        if (!enabled[collector.name as Name]) continue;
        for (const source of collector.sources.filter(isEngineSource)) plan[source.name] = true;
      }
      return plan;
    },
    startedSources(enabled, mode) {
      const started = new Set<ScheduledSource<unknown>>();
      for (const collector of collectors) {
        if (!enabled[collector.name as Name]) continue;
        for (const source of collector.sources) {
          if (!isEngineSource(source) && (mode === 'serve' || source.once)) started.add(source);
        }
      }
      return [...started];
    },
    sampled(enabled) {
      const on = {} as Record<Name, boolean>;
      for (const collector of collectors) {
        const name = collector.name as Name;
        on[name] = enabled[name] && collector.sources.some(isEngineSource);
      }
      return on;
    },
    statuses(snapshot, enabled) {
      const statuses: CollectorStatus<Name>[] = [];
      for (const collector of collectors) {
        const name = collector.name as Name;
        if (!enabled[name]) continue;
        const sources = collector.sources
          .filter(isEngineSource)
          .map((source) => snapshot.sources[source.name]);
        const failed = sources.find((source) => source !== undefined && !source.success);
        const unsampled = sources.includes(undefined);
        const success =
          failed === undefined && !unsampled && collector.select(snapshot) !== undefined;
        const error = success
          ? undefined
          : (failed?.error ??
            collector.missingReason?.(snapshot) ??
            (unsampled ? 'source not sampled' : 'no data'));
        const durationSeconds =
          collector.durationSeconds?.(snapshot) ??
          sources.reduce((total, source) => total + (source?.durationSeconds ?? 0), 0);
        statuses.push({
          name,
          success,
          durationSeconds,
          ...(error === undefined ? {} : { error }),
        });
      }
      return statuses;
    },
  };
}
