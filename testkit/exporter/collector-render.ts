/** One collector's metric families rendered from a given part, as /metrics would show them. */
import { Registry } from 'prom-client';
import type { ConstMetricDefinition } from '../../src/collectors/collector.js';
import { registerConstMetric } from '../../src/metrics/const-metric.js';

export function renderFamilies<Data>(
  definitions: readonly ConstMetricDefinition<Data>[],
  data: Data,
): Promise<string> {
  const registry = new Registry();
  for (const definition of definitions) registerConstMetric(registry, definition, () => data);
  return registry.metrics();
}
