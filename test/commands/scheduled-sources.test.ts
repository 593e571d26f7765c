/**
 * The scheduled-source registry: a fake source of each schedule (testkit/sources/, one file
 * each, with its one-line collector) is named by its collector as the real ones are, started
 * by the one loop, reaches the exposition with its time through the one store, and stops
 * cleanly (docs/architecture.md, "Adding a scheduled source"). Every source a collector names
 * is the engine's or has one starter.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AnyCollector } from '../../src/collectors/collector-set.js';
import { collectorSet } from '../../src/collectors/collector-set.js';
import { NETNS_ROUNDS } from '../../src/collectors/netns.js';
import { COLLECTORS } from '../../src/collectors/registry.js';
import { SOCKSTAT_FAST } from '../../src/collectors/sockstat.js';
import { SCHEDULED_SOURCES } from '../../src/commands/scheduled-sources.js';
import {
  defineStarter,
  maxAgeMs,
  type SourceStarter,
  startScheduledSources,
} from '../../src/commands/source-runner.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import { ENGINE_SOURCES, isEngineSource } from '../../src/snapshot/source-readers.js';
import { exporterConfig } from '../../testkit/exporter/exporter-app.js';
import { exampleSnapshot } from '../../testkit/exporter/exporter-snapshots.js';
import { sampleValue } from '../../testkit/prometheus/exposition.js';
import {
  FAKE_INTERVAL,
  fakeIntervalCollector,
  fakeIntervalStarter,
} from '../../testkit/sources/fake-interval.js';
import {
  FAKE_ROUND,
  fakeRoundCollector,
  fakeRoundStarter,
} from '../../testkit/sources/fake-round.js';
import {
  FAKE_SAMPLE,
  fakeSampleCollector,
  fakeSampleStarter,
} from '../../testkit/sources/fake-sample.js';
import {
  FAKE_STREAM,
  fakeStreamCollector,
  fakeStreamStarter,
} from '../../testkit/sources/fake-stream.js';

const FAKES = [fakeSampleCollector, fakeIntervalCollector, fakeRoundCollector, fakeStreamCollector];
const FAKE_SOURCES = [FAKE_SAMPLE, FAKE_INTERVAL, FAKE_ROUND, FAKE_STREAM];

/** The rounds, stood in for: an empty round every netns interval, with no worker. */
const roundsStub = defineStarter({
  source: NETNS_ROUNDS,
  start({ intervalMs, publish }) {
    const round = () =>
      publish({
        round: {
          timestampMs: Date.now(),
          durationSeconds: 0,
          namespaces: [],
          dropped: 0,
          walked: 0,
          deferred: 0,
          failures: [],
        },
        readFailures: 0,
      });
    const timer = setInterval(round, intervalMs);
    return {
      stop: () => {
        clearInterval(timer);
        return undefined;
      },
    };
  },
});

const STARTERS = [
  fakeSampleStarter,
  fakeIntervalStarter,
  fakeRoundStarter,
  fakeStreamStarter,
  roundsStub,
] as readonly SourceStarter<unknown>[];

const ALL_FAKES = ['netns', ...FAKES.map((fake) => fake.name)];

/** The registry's list plus one line per fake. */
const WITH_FAKES = collectorSet([...COLLECTORS, ...FAKES] as readonly AnyCollector[]);

function enabledOnly(names: readonly string[]): Record<string, boolean> {
  return Object.fromEntries(WITH_FAKES.names.map((name) => [name, names.includes(name)]));
}

const byName = (sources: readonly { name: string }[]) => sources.map(({ name }) => name).sort();

/** An exporter rendering the fakes' collectors in this thread, beside the registry's. */
function exporterWith(names: readonly string[]): ExporterMetrics {
  const collectors = enabledOnly(names) as ExporterMetrics['options']['collectors'];
  return new ExporterMetrics({ collectors, version: '1' }, WITH_FAKES);
}

/** The loop over `starters`, with the netns collector and every fake enabled. */
function startFakes(
  metrics: ExporterMetrics,
  mode: 'serve' | 'once',
  starters: readonly SourceStarter<unknown>[],
) {
  const config = exporterConfig([]);
  return startScheduledSources({
    config,
    logger: pino({ level: 'silent' }),
    store: metrics.sources,
    mode,
    sources: WITH_FAKES.startedSources(enabledOnly(ALL_FAKES), mode),
    starters,
    options: { ...config.collectorOptions, fakeIntervalMs: 20, netnsIntervalMs: 30 },
  });
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('scheduled sources', () => {
  it('starts a fake of each schedule from the registry, serves each result with its time, and stops them all', async () => {
    const metrics = exporterWith(ALL_FAKES);
    const published: string[] = [];
    metrics.sources.onPublish((name) => published.push(name));
    const before = Date.now();
    const sources = startFakes(metrics, 'serve', STARTERS);
    metrics.update(exampleSnapshot());
    sources.afterSample();
    await sources.ready;
    const body = async () => (await metrics.render('text')).body.toString();
    // Each schedule keeps publishing: the interval and the stream several times by now.
    await until(async () => {
      const text = await body();
      return (
        (sampleValue(text, 'fake_interval_reads', {}) ?? 0) >= 3 &&
        (sampleValue(text, 'fake_stream_events_total', {}) ?? 0) >= 3
      );
    }, 'the interval and stream fakes');
    sources.afterSample();
    const text = await body();
    expect(sampleValue(text, 'fake_sample_reads', {})).toBe(2);
    for (const fake of FAKES) {
      expect(sampleValue(text, 'tcpstate_collector_success', { collector: fake.name })).toBe(1);
    }
    const served = metrics.sources.served();
    for (const source of FAKE_SOURCES) {
      expect(served[source.name]?.atMs).toBeGreaterThanOrEqual(before);
      expect(served[source.name]?.atMs).toBeLessThanOrEqual(Date.now());
    }

    expect(await sources.stop()).toBe(true);
    // Read after each round, the last one included: it follows the rounds' time.
    const last = await body();
    expect(sampleValue(last, 'fake_round_timestamp_seconds', {})).toBe(
      sampleValue(last, 'tcpstate_netns_last_round_timestamp_seconds', {}),
    );
    const count = published.length;
    sources.afterSample();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Nothing publishes once stopped: no timer of any source is left.
    expect(published.length).toBe(count);
    metrics.close();
  });

  it('--once reads only the sources that say so, each once, after the sample or the round', async () => {
    const metrics = exporterWith(ALL_FAKES);
    const onceRounds = defineStarter({
      source: NETNS_ROUNDS,
      start: (context) => roundsStub.start({ ...context, intervalMs: 1 }),
    });
    const sources = startFakes(metrics, 'once', [
      ...STARTERS.slice(0, 4),
      onceRounds,
    ] as readonly SourceStarter<unknown>[]);
    metrics.update(exampleSnapshot());
    sources.afterSample();
    await sources.ready;
    expect(await sources.stop()).toBe(true);
    const served = metrics.sources.served();
    expect(Object.keys(served).sort()).toEqual(['fake-round', 'fake-sample', 'netns-rounds']);
    metrics.close();
  });

  it('does not serve a result older than its schedule allows', async () => {
    const metrics = exporterWith(['fake-interval']);
    metrics.sources.declare(FAKE_INTERVAL, maxAgeMs(1_000));
    metrics.update(exampleSnapshot());
    const fresh = Date.now() - maxAgeMs(1_000) + 5_000;
    metrics.sources.publish(FAKE_INTERVAL, 7, fresh);
    let text = (await metrics.render('text')).body.toString();
    expect(sampleValue(text, 'fake_interval_reads', {})).toBe(7);
    metrics.sources.publish(FAKE_INTERVAL, 8, Date.now() - maxAgeMs(1_000) - 1);
    text = (await metrics.render('text')).body.toString();
    expect(sampleValue(text, 'fake_interval_reads', {})).toBeUndefined();
    expect(sampleValue(text, 'tcpstate_collector_success', { collector: 'fake-interval' })).toBe(0);
    expect(metrics.sources.served()[FAKE_INTERVAL.name]?.error).toMatch(/^stale: /);
    // Gone stale since it was sent, the sampling worker is sent the stale entry.
    expect(metrics.nextRenderRequest().scheduled?.[FAKE_INTERVAL.name]?.error).toMatch(/^stale: /);
    metrics.close();
  });

  it('reads the engine sources a collector names with the sample, and starts the others, fakes as the real ones', () => {
    const enabled = enabledOnly([...ALL_FAKES, 'sockstat']);
    // fake-sample and the engine's sockstat both declare {kind: 'sample'}: the engine reads one.
    expect(FAKE_SAMPLE.schedule).toEqual(ENGINE_SOURCES.sockstat.schedule);
    const plan = WITH_FAKES.sourcePlan(enabled);
    expect(Object.keys(plan).filter((name) => plan[name as keyof typeof plan])).toEqual([
      'sockstat',
    ]);
    expect(byName(WITH_FAKES.startedSources(enabled, 'serve'))).toEqual(
      byName([...FAKE_SOURCES, NETNS_ROUNDS, SOCKSTAT_FAST]),
    );
    expect(byName(WITH_FAKES.startedSources(enabled, 'once'))).toEqual(
      byName([FAKE_SAMPLE, FAKE_ROUND, NETNS_ROUNDS]),
    );
  });

  it('has one starter for each source a collector names that the engine does not read', () => {
    const named = [...new Set(COLLECTORS.flatMap((collector) => collector.sources))];
    const started = named.filter((source) => !isEngineSource(source));
    expect(byName(SCHEDULED_SOURCES.map((starter) => starter.source))).toEqual(byName(started));
    for (const starter of SCHEDULED_SOURCES) expect(started).toContain(starter.source);
    expect(new Set(named.map((source) => source.name)).size).toBe(named.length);
    for (const source of Object.values(ENGINE_SOURCES)) {
      expect(source.schedule).toEqual({ kind: 'sample' });
    }
  });
});
