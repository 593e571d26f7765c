import { describe, expect, it } from 'vitest';
import { COLLECTOR_NAMES, type CollectorName, REGISTRY } from '../../src/collectors/registry.js';
import { CollectorHealth } from '../../src/metrics/collector-health.js';
import { exampleSnapshot } from '../../testkit/exporter/exporter-snapshots.js';

/**
 * The collectors of the node's sample that the example snapshot samples (netns has its own
 * rounds, connect-errors its stream; conntrack and snat are off by default and not in it).
 */
const APART = new Set(['netns', 'connect-errors', 'conntrack', 'snat']);
const ALL = Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, !APART.has(name)])) as Record<
  CollectorName,
  boolean
>;

describe('CollectorHealth', () => {
  it('reports a collector once when it starts failing and once when it recovers', () => {
    const health = new CollectorHealth();
    const observe = (failed: ('sockstat' | 'netstat')[]) =>
      health.observe(REGISTRY.statuses(exampleSnapshot({ failed }), ALL));

    expect(observe([])).toEqual([]);
    expect(observe(['netstat'])).toEqual([
      { collector: 'netstat', change: 'failing', error: 'netstat: ENOENT' },
    ]);
    expect(observe(['netstat'])).toEqual([]);
    expect(observe(['netstat', 'sockstat'])).toEqual([
      { collector: 'sockstat', change: 'failing', error: 'sockstat: ENOENT' },
    ]);
    expect(observe([])).toEqual([
      { collector: 'sockstat', change: 'recovered' },
      { collector: 'netstat', change: 'recovered' },
    ]);
    expect(observe([])).toEqual([]);
  });
});
