/**
 * What a collector is: a name with its `--collector.<name>` flag, the sources it reads, its
 * own flags, and the metric families it makes of its part of a snapshot. One
 * file per collector declares this; registry.ts lists them (see docs/architecture.md).
 */
import type { FlagTable } from '../cli/flag-parser.js';
import type { Snapshot } from '../snapshot/model.js';
import type { NamespaceSample } from '../snapshot/netns-view.js';
import type { ScheduledSource } from '../sources/scheduled-source.js';

export interface LabelledValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/** A metric family whose samples are computed from data when the exposition is rendered. */
export interface ConstMetricDefinition<Data> {
  /** Counters end in `_total`; prom-client strips it for the OpenMetrics family name. */
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly labelNames?: readonly string[];
  /** A method, so that a family of any data fits a list of collectors of unknown data. */
  values(data: Data): Iterable<LabelledValue>;
}

const NO_LABELS: Readonly<Record<string, string | number>> = {};

export function labelled(value: number, labels = NO_LABELS): LabelledValue {
  return { labels, value };
}

export interface CollectorDefinition<
  Name extends string = string,
  Flags extends FlagTable = FlagTable,
  Data = unknown,
> {
  readonly name: Name;
  /** The help of its `--[no-]collector.<name>` flag. */
  readonly help: string;
  /** Whether it runs when its flag is not given. */
  readonly enabledByDefault: boolean;
  /**
   * What it reads, by the sources' declarations (docs/architecture.md, "Adding a scheduled
   * source"): a sample reads an engine source (`ENGINE_SOURCES`) when an enabled collector
   * names it; the others are started apart, their latest results in the snapshot's `scheduled`.
   */
  readonly sources: readonly ScheduledSource<unknown>[];
  /** Its own flags (config key → spec), `--collector.<name>.<option>`; they reach the engine. */
  readonly flags: Flags;
  /** Its part of the snapshot; undefined when it is not there. */
  readonly select: (snapshot: Snapshot) => Data | undefined;
  /**
   * The same data of one other namespace of the node, read by the netns collector's rounds:
   * with --collector.netns its series join the node's in each family, labelled by namespace
   * (docs/namespaces.md). Absent for what a namespace has no figures of its own for.
   */
  readonly selectNamespace?: (namespace: NamespaceSample, snapshot: Snapshot) => Data | undefined;
  /** Why the part is missing although the sources succeeded (ephemeral without a port range). */
  readonly missingReason?: (snapshot: Snapshot) => string | undefined;
  /** How long its data took, when not its sources' time (netns: its own round). */
  readonly durationSeconds?: (snapshot: Snapshot) => number | undefined;
  readonly metrics: readonly ConstMetricDefinition<Data>[];
}

/** Keeps the name and flag keys as literal types, so the registry derives typed tables. */
export function defineCollector<const Name extends string, const Flags extends FlagTable, Data>(
  definition: CollectorDefinition<Name, Flags, Data>,
): CollectorDefinition<Name, Flags, Data> {
  return definition;
}
