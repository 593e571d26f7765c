/**
 * A metric family whose samples are computed at scrape time from the latest snapshot, like
 * client_golang's const metrics. prom-client's Gauge and Counter cannot do this cleanly: an
 * unlabelled Gauge always shows a value (a failed collector would leave a stale 0), and a
 * Counter cannot be set to the kernel's absolute value.
 */
import type { Metric, Registry, RegistryContentType } from 'prom-client';
import type { ConstMetricDefinition, LabelledValue } from '../collectors/collector.js';

/** A collector's family, or a histogram, whose samples name their series (`_bucket`...). */
interface FamilyDefinition<Data> {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly labelNames?: readonly string[];
  values(data: Data): Iterable<LabelledValue & { readonly metricName?: string }>;
}

/** The object prom-client's Registry formats: name, help, type and get(). */
class ConstMetric<Data> {
  /** Mutable: an OpenMetrics registry rewrites a counter's name to drop `_total`. */
  name: string;
  readonly help: string;
  readonly type: FamilyDefinition<Data>['type'];
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';
  private readonly definition: FamilyDefinition<Data>;

  constructor(
    definition: FamilyDefinition<Data>,
    private readonly read: () => Data | undefined,
  ) {
    this.name = definition.name;
    this.help = definition.help;
    this.type = definition.type;
    this.labelNames = definition.labelNames ?? [];
    this.definition = definition;
  }

  async get() {
    const data = this.read();
    const values = data === undefined ? [] : [...this.definition.values(data)];
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  /** Registry.resetMetrics() calls this; there is no state to reset. */
  reset(): void {}
}

/**
 * Registers a family that shows `definition.values(data)` while `read()` returns data, and
 * only its HELP and TYPE while it returns undefined (the source failed: no stale numbers).
 */
export function registerConstMetric<Data, ContentType extends RegistryContentType>(
  registry: Registry<ContentType>,
  definition: ConstMetricDefinition<Data>,
  read: () => Data | undefined,
): void {
  // Registry's type only names its own classes; at runtime it formats anything with get().
  registry.registerMetric(new ConstMetric(definition, read) as unknown as Metric);
}

/** A histogram's observations, as plain data that crosses a worker boundary. */
export interface HistogramCounts {
  /** Upper bounds, ascending, without +Inf. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative), one per bound; larger ones only in count. */
  readonly buckets: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export function emptyHistogram(bounds: readonly number[]): HistogramCounts {
  return { bounds, buckets: bounds.map(() => 0), sum: 0, count: 0 };
}

/** The counts with one more observation, as prom-client's Histogram.observe() counts it. */
export function observe(histogram: HistogramCounts, value: number): HistogramCounts {
  const bucket = histogram.bounds.findIndex((bound) => value <= bound);
  return {
    bounds: histogram.bounds,
    buckets: histogram.buckets.map((count, index) => (index === bucket ? count + 1 : count)),
    sum: histogram.sum + value,
    count: histogram.count + 1,
  };
}

/** The `_bucket` (cumulative), `_sum` and `_count` series of family `name`, as prom-client prints them. */
function* histogramSamples(name: string, histogram: HistogramCounts) {
  let cumulative = 0;
  for (const [index, le] of histogram.bounds.entries()) {
    cumulative += histogram.buckets[index] ?? 0;
    yield { metricName: `${name}_bucket`, labels: { le }, value: cumulative };
  }
  yield { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: histogram.count };
  yield { metricName: `${name}_sum`, labels: {}, value: histogram.sum };
  yield { metricName: `${name}_count`, labels: {}, value: histogram.count };
}

/** Registers a histogram family that shows the counts `read()` returns, like prom-client's Histogram. */
export function registerConstHistogram<ContentType extends RegistryContentType>(
  registry: Registry<ContentType>,
  family: { readonly name: string; readonly help: string },
  read: () => HistogramCounts,
): void {
  const definition: FamilyDefinition<HistogramCounts> = {
    ...family,
    type: 'histogram',
    labelNames: ['le'],
    values: (counts) => histogramSamples(family.name, counts),
  };
  registry.registerMetric(new ConstMetric(definition, read) as unknown as Metric);
}
