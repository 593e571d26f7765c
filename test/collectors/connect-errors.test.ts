import { describe, expect, it } from 'vitest';
import { CONNECT_ERRORS_STREAM } from '../../src/collectors/connect-errors.js';
import { COLLECTOR_NAMES, type CollectorName } from '../../src/collectors/registry.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import type { ConnectErrorCounts } from '../../src/sources/connect-errors.js';
import { exampleSnapshot } from '../../testkit/exporter/exporter-snapshots.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';

const counts: ConnectErrorCounts = {
  series: [
    {
      syscall: 'connect',
      errno: 'EADDRNOTAVAIL',
      netns: '4026532505',
      pod: 'web-0',
      namespace: 'shop',
      container: 'nginx',
      count: 5,
    },
    {
      syscall: 'bind',
      errno: 'EADDRINUSE',
      netns: '4026532505',
      pod: 'web-0',
      namespace: 'shop',
      container: 'nginx',
      count: 3,
    },
    {
      syscall: 'connect',
      errno: 'EADDRNOTAVAIL',
      netns: 'exited',
      pod: '',
      namespace: '',
      container: '',
      count: 2,
    },
  ],
  lostEvents: 4,
  pollSeconds: 0.000_25,
};

const collectors = Object.fromEntries(
  COLLECTOR_NAMES.map((name) => [name, name === 'connect-errors' || name === 'sockets']),
) as Record<CollectorName, boolean>;

describe('the connect-errors collector in the exposition', () => {
  it('serves the counts per errno and namespace with the node snapshot', async () => {
    const exporter = new ExporterMetrics({ collectors, version: '1' });
    exporter.update(exampleSnapshot());
    exporter.sources.publish(CONNECT_ERRORS_STREAM, counts);
    const text = (await exporter.render('text')).body.toString();
    const pod = { netns: '4026532505', pod: 'web-0', namespace: 'shop', container: 'nginx' };
    expect(
      sampleValue(text, 'tcpstate_connect_errors_total', { errno: 'EADDRNOTAVAIL', ...pod }),
    ).toBe(5);
    expect(sampleValue(text, 'tcpstate_bind_errors_total', { errno: 'EADDRINUSE', ...pod })).toBe(
      3,
    );
    const exited = { netns: 'exited', pod: '', namespace: '', container: '' };
    expect(
      sampleValue(text, 'tcpstate_connect_errors_total', { errno: 'EADDRNOTAVAIL', ...exited }),
    ).toBe(2);
    expect(
      sampleValue(text, 'tcpstate_collector_duration_seconds', { collector: 'connect-errors' }),
    ).toBe(counts.pollSeconds);
    expect(samplesOf(text, 'tcpstate_connect_errors_total')).toHaveLength(2);
    expect(sampleValue(text, 'tcpstate_connect_errors_lost_events_total', {})).toBe(4);
    expect(sampleValue(text, 'tcpstate_collector_success', { collector: 'connect-errors' })).toBe(
      1,
    );
    // The stream's counts stay with the next node snapshot.
    exporter.update(exampleSnapshot());
    const next = (await exporter.render('text')).body.toString();
    expect(samplesOf(next, 'tcpstate_bind_errors_total')).toHaveLength(1);
  });

  it('fails alone, with no series, when the stream could not start', async () => {
    const exporter = new ExporterMetrics({ collectors, version: '1' });
    exporter.update(exampleSnapshot());
    exporter.sources.fail(CONNECT_ERRORS_STREAM, 'no tracefs');
    const text = (await exporter.render('text')).body.toString();
    expect(sampleValue(text, 'tcpstate_collector_success', { collector: 'connect-errors' })).toBe(
      0,
    );
    expect(sampleValue(text, 'tcpstate_collector_success', { collector: 'sockets' })).toBe(1);
    expect(samplesOf(text, 'tcpstate_connect_errors_lost_events_total')).toEqual([]);
  });

  it('sends new counts to the sampling worker once, and again to a new worker', () => {
    const exporter = new ExporterMetrics({ collectors, version: '1' });
    const sent = () => exporter.nextRenderRequest().scheduled?.[CONNECT_ERRORS_STREAM.name]?.result;
    expect(sent()).toBeUndefined();
    exporter.sources.publish(CONNECT_ERRORS_STREAM, counts);
    expect(sent()).toBe(counts);
    expect(sent()).toBeUndefined();
    exporter.forgetRenderer();
    expect(sent()).toBe(counts);
  });
});
