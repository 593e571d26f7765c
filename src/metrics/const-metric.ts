/**
 * A metric family whose samples are computed at scrape time from the latest snapshot, like
 * client_golang's const metrics. prom-client's Gauge and Counter cannot do this cleanly: an
 * unlabelled Gauge always shows a value (a failed collector would leave a stale 0), and a
 * Counter cannot be set to the kernel's absolute value.
 */
import type { Metric, Registry, RegistryContentType } from 'prom-client';

export interface ConstSample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  /** A histogram's `_bucket`, `_sum` or `_count` series; the family name otherwise. */
  readonly metricName?: string;
}

export interface ConstMetricDefinition<Data> {
  /** Counters end in `_total`; prom-client strips it for the OpenMetrics family name. */
  readonly name: string;
  readonly help: string;
  readonly type: ConstMetricType;
  readonly labelNames?: readonly string[];
  readonly samples: (data: Data) => Iterable<ConstSample>;
}

export type ConstMetricType = 'gauge' | 'counter' | 'histogram';

const NO_LABELS: Readonly<Record<string, string | number>> = {};

export function sample(value: number, labels = NO_LABELS): ConstSample {
  return { labels, value };
}

/** The object prom-client's Registry formats: name, help, type and get(). */
class ConstMetric<Data> {
  /** Mutable: an OpenMetrics registry rewrites a counter's name to drop `_total`. */
  name: string;
  readonly help: string;
  readonly type: ConstMetricType;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';
  private readonly samples: (data: Data) => Iterable<ConstSample>;

  constructor(
    definition: ConstMetricDefinition<Data>,
    private readonly read: () => Data | undefined,
  ) {
    this.name = definition.name;
    this.help = definition.help;
    this.type = definition.type;
    this.labelNames = definition.labelNames ?? [];
    this.samples = definition.samples;
  }

  async get() {
    const data = this.read();
    const values = data === undefined ? [] : [...this.samples(data)];
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

/** The `_bucket` (cumulative), `_sum` and `_count` samples of family `name`, as prom-client prints them. */
export function* histogramSamples(name: string, histogram: HistogramCounts): Iterable<ConstSample> {
  let cumulative = 0;
  for (const [index, le] of histogram.bounds.entries()) {
    cumulative += histogram.buckets[index] ?? 0;
    yield { metricName: `${name}_bucket`, labels: { le }, value: cumulative };
  }
  yield { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: histogram.count };
  yield { metricName: `${name}_sum`, labels: NO_LABELS, value: histogram.sum };
  yield { metricName: `${name}_count`, labels: NO_LABELS, value: histogram.count };
}

/**
 * Registers a family that shows `definition.samples(data)` while `read()` returns data, and
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
