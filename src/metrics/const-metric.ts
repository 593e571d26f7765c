/**
 * A metric family whose samples are computed at scrape time from the latest snapshot, like
 * client_golang's const metrics. prom-client's Gauge and Counter cannot do this cleanly: an
 * unlabelled Gauge always shows a value (a failed collector would leave a stale 0), and a
 * Counter cannot be set to the kernel's absolute value.
 */
import type { Metric, Registry, RegistryContentType } from 'prom-client';
import type { ConstMetricDefinition } from '../collectors/collector.js';

/** The object prom-client's Registry formats: name, help, type and get(). */
class ConstMetric<Data> {
  /** Mutable: an OpenMetrics registry rewrites a counter's name to drop `_total`. */
  name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';
  private readonly definition: ConstMetricDefinition<Data>;

  constructor(
    definition: ConstMetricDefinition<Data>,
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
    const values = data === undefined ? [] : [...this.definition.samples(data)];
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
