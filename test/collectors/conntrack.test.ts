/** The conntrack families rendered from their part of a snapshot, and the default plan. */
import { describe, expect, it } from 'vitest';
import { conntrackCollector } from '../../src/collectors/conntrack.js';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { sampleOptionsFor } from '../../src/config/flags.js';
import type { ConntrackStats } from '../../src/sources/conntrack-stats.js';
import { renderFamilies as render } from '../../testkit/exporter/collector-render.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';

describe('the conntrack collector', () => {
  it('shows entries, the limit and the events the kernel printed, no others', async () => {
    const stats: ConntrackStats = {
      entries: 7,
      limit: 262144,
      events: { insert_failed: 5, drop: 4 },
    };
    const body = await render(conntrackCollector.metrics, stats);
    expect(sampleValue(body, 'tcpstate_conntrack_entries', {})).toBe(7);
    expect(sampleValue(body, 'tcpstate_conntrack_entries_limit', {})).toBe(262144);
    expect(samplesOf(body, 'tcpstate_conntrack_events_total').map((s) => s.labels.event)).toEqual([
      'insert_failed',
      'drop',
    ]);
  });
});

describe('with the defaults', () => {
  it('reads neither conntrack file: both collectors are off and cost nothing', () => {
    const plan = sampleOptionsFor(DEFAULT_CONFIG).sources;
    expect(plan.conntrack).toBe(false);
    expect(plan.snat).toBe(false);
  });
});
