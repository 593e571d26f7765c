import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { emptyHistogram, observe, registerConstHistogram } from '../../src/metrics/const-metric.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED = [0.0005, 0.001, 0.02, 0.02, 0.5, 3, 0.1];

function registries(): [Registry, Registry] {
  const openMetrics = new Registry<RegistryContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return [new Registry(), openMetrics as Registry];
}

describe('const histogram', () => {
  it("prints what prom-client's Histogram prints for the same observations, in both formats", async () => {
    const [text, openMetrics] = registries();
    const [constText, constOpenMetrics] = registries();
    let counts = emptyHistogram(BOUNDS);
    for (const [registry, constRegistry] of [
      [text, constText],
      [openMetrics, constOpenMetrics],
    ] as const) {
      counts = emptyHistogram(BOUNDS);
      const histogram = new Histogram({
        name: 'x_seconds',
        help: 'X.',
        buckets: BOUNDS,
        registers: [registry],
      });
      registerConstHistogram(constRegistry, { name: 'x_seconds', help: 'X.' }, () => counts);
      // Before any observation both show zeros.
      expect(await constRegistry.metrics()).toBe(await registry.metrics());
      for (const value of OBSERVED) {
        histogram.observe(value);
        counts = observe(counts, value);
      }
      expect(await constRegistry.metrics()).toBe(await registry.metrics());
    }
    expect(counts.count).toBe(OBSERVED.length);
    // 3 is above every bound: counted in +Inf (count) only.
    expect(counts.buckets.reduce((sum, count) => sum + count, 0)).toBe(OBSERVED.length - 1);
  });
});
