/**
 * The exporter under a real Prometheus: both run inside a namespace holding the client-timewait
 * scenario (600 TIME_WAIT sockets and more), Prometheus scrapes every second, and what it
 * stored through the OpenMetrics path must equal what the exporter serves.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILIES, TCP_STATES } from '../../src/snapshot/model.js';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  buildClientTimewaitScenario,
  type ScenarioHandle,
} from '../../testkit/kernel/socket-scenario.js';
import { parseSamples, samplesOf } from '../../testkit/prometheus/exposition.js';
import {
  type PromSample,
  type RunningPrometheus,
  startPrometheus,
} from '../../testkit/prometheus/prometheus.js';
import { httpGet } from '../../testkit/prometheus/prometheus-daemon.js';

interface SsCounts {
  /** TIME_WAIT sockets toward ports 9000 and 8080. */
  readonly timeWaitToUpstreams: number;
  /** Sockets in any state toward php-fpm, 198.18.1.2:9000. */
  readonly towardFpm: number;
}

/** ss counts taken just before the exporter's one sample and just after it. */
const ssAround: SsCounts[] = [];

function ssLines(ns: string, filter: readonly string[]): number {
  const output = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-tanH', ...filter], {
    encoding: 'utf8',
  });
  return output.split('\n').filter((line) => line.trim() !== '').length;
}

function ssCounts(ns: string): SsCounts {
  return {
    timeWaitToUpstreams: ssLines(ns, ['state', 'time-wait', '( dport = :9000 or dport = :8080 )']),
    towardFpm: ssLines(ns, ['dst', '198.18.1.2:9000']),
  };
}

/**
 * Counts only fall here (TIME_WAITs end, nothing new connects), so the exporter's value,
 * sampled between the two ss runs, lies between them; equal when nothing changed.
 */
function expectWithinSs(value: number, pick: (counts: SsCounts) => number): void {
  const [before, after] = ssAround.map(pick) as [number, number];
  expect(value, `ss saw ${before} before the sample, ${after} after`).toBeGreaterThanOrEqual(
    Math.min(before, after),
  );
  expect(value).toBeLessThanOrEqual(Math.max(before, after));
  expect(value).toBeGreaterThan(0);
}

describe.skipIf(
  !canRun('exporter scraped by a real Prometheus', { netns: true, commands: ['prometheus'] }),
)('tcpstate-exporter scraped by Prometheus', () => {
  let scenario: ScenarioHandle | undefined;
  let exporter: RunningExporter | undefined;
  let prometheus: RunningPrometheus | undefined;
  let served = '';

  beforeAll(async () => {
    scenario = await buildClientTimewaitScenario({ prefix: 'tsv' });
    const ns = scenario.mainNs;
    ssAround.push(ssCounts(ns));
    // One sample for the whole test, so every scrape serves the same numbers.
    exporter = await startExporter(['--path.procfs=/proc', '--sample.interval=10m'], { netns: ns });
    const address = exporter.url.replace('http://', '');
    prometheus = await startPrometheus({
      netns: ns,
      port: 9090,
      config: {
        scrape_configs: [{ job_name: 'tcpstate', static_configs: [{ targets: [address] }] }],
      },
    });
    await prometheus.waitForTargetsUp({ scrapes: 3, timeoutMs: 30_000 });
    const response = await httpGet(`${exporter.url}/metrics`, ns);
    expect(response.status).toBe(200);
    served = response.body;
    ssAround.push(ssCounts(ns));
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.daemon.stop();
    await scenario?.close();
  });

  it('stores the tcpstate_sockets the exporter serves, all 22 series', async () => {
    const result = await prometheus?.query('tcpstate_sockets');
    const stored = (result?.result ?? []) as readonly PromSample[];
    expect(stored).toHaveLength(FAMILIES.length * TCP_STATES.length);
    for (const sample of stored) {
      const { family = '', state = '' } = sample.metric;
      const exposed = samplesOf(served, 'tcpstate_sockets').find(
        (candidate) => candidate.labels.family === family && candidate.labels.state === state,
      );
      expect(Number(sample.value?.[1]), `${family} ${state}`).toBe(exposed?.value);
    }
    // The scenario's client-side TIME_WAIT sockets toward :9000 and :8080, as ss saw them
    // around the sample: never a fixed 600, since the kernel ends one early now and then.
    const scenarioTimeWait = await prometheus?.query(
      'sum(tcpstate_remote_port_sockets{state="time_wait", port=~"9000|8080"})',
    );
    const [sum] = (scenarioTimeWait?.result ?? []) as readonly PromSample[];
    expectWithinSs(Number(sum?.value?.[1]), (counts) => counts.timeWaitToUpstreams);
  });

  it('stores every tcpstate series, counters with _total, through its OpenMetrics parser', async () => {
    const result = await prometheus?.query('{__name__=~"tcpstate_.+", job="tcpstate"}');
    const storedNames = new Set(
      ((result?.result ?? []) as readonly PromSample[]).map((sample) => sample.metric.__name__),
    );
    const servedNames = new Set(
      parseSamples(served)
        .map((sample) => sample.name)
        .filter((name) => name.startsWith('tcpstate_')),
    );
    expect([...storedNames].sort()).toEqual([...servedNames].sort());
    expect(storedNames.has('tcpstate_active_opens_total')).toBe(true);
    // Metadata under the family name without _total: Prometheus negotiated OpenMetrics.
    const metadata = await prometheus?.api<Record<string, { type: string }[]>>('/api/v1/metadata', {
      metric: 'tcpstate_active_opens',
    });
    expect(metadata?.tcpstate_active_opens?.[0]?.type).toBe('counter');
    expect(storedNames.has('tcpstate_ephemeral_port_headroom_ratio')).toBe(true);

    const usedMax = await prometheus?.query('tcpstate_ephemeral_ports_used_max');
    const [sample] = (usedMax?.result ?? []) as readonly PromSample[];
    // The TIME_WAIT plus the 4 kept connections toward php-fpm 198.18.1.2:9000, as ss saw them.
    expectWithinSs(Number(sample?.value?.[1]), (counts) => counts.towardFpm);
  });

  it('reports every collector successful and no scrape errors', async () => {
    const success = await prometheus?.query('tcpstate_collector_success');
    const values = ((success?.result ?? []) as readonly PromSample[]).map((s) => s.value?.[1]);
    expect(values).toEqual(['1', '1', '1', '1', '1', '1']);
    const up = await prometheus?.query('up{job="tcpstate"}');
    expect(((up?.result ?? []) as readonly PromSample[]).map((s) => s.value?.[1])).toEqual(['1']);
  });
});
