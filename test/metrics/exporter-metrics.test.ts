import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { COLLECTOR_NAMES, type CollectorName } from '../../src/collectors/registry.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import {
  addSample,
  EXPOSITION_KEYS,
  emptyTotals,
  SampleExposition,
} from '../../src/metrics/sample-exposition.js';
import { FAMILIES, TCP_STATES } from '../../src/snapshot/model.js';
import {
  EXAMPLE_EPHEMERAL,
  exampleSnapshot,
  exampleSocketTables,
} from '../../testkit/exporter/exporter-snapshots.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  familyTypes,
  parseSamples,
  samplesOf,
  sampleValue,
} from '../../testkit/prometheus/exposition.js';
import { promtoolCheckMetrics } from '../../testkit/prometheus/promtool.js';

function allCollectors(enabled = true): Record<CollectorName, boolean> {
  return Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, enabled])) as Record<
    CollectorName,
    boolean
  >;
}

/** Every collector but netns, which adds the namespace labels to the node's series (test/collectors/netns.test.ts). */
function metrics(collectors = { ...allCollectors(), netns: false }): ExporterMetrics {
  return new ExporterMetrics({ collectors, version: '9.8.7' });
}

async function text(exporter: ExporterMetrics): Promise<string> {
  return (await exporter.render('text')).body.toString();
}

const COLLECTOR_FAMILIES: Readonly<Record<CollectorName, readonly string[]>> = {
  sockets: ['tcpstate_sockets'],
  ports: ['tcpstate_local_port_sockets', 'tcpstate_remote_port_sockets'],
  ephemeral: [
    'tcpstate_ephemeral_ports_usable',
    'tcpstate_ephemeral_ports_used',
    'tcpstate_ephemeral_ports_used_max',
    'tcpstate_ephemeral_port_headroom_ratio',
  ],
  sockstat: ['tcpstate_sockstat_sockets'],
  netstat: ['tcpstate_timewait_finished_total', 'tcpstate_active_opens_total'],
  sysctl: ['tcpstate_sysctl'],
  netns: ['tcpstate_netns_namespaces', 'tcpstate_netns_info'],
  conntrack: ['tcpstate_conntrack_entries', 'tcpstate_conntrack_events_total'],
  snat: ['tcpstate_snat_ports_used', 'tcpstate_snat_ports_usable'],
  'connect-errors': ['tcpstate_connect_errors_total', 'tcpstate_bind_errors_total'],
};

describe('ExporterMetrics', () => {
  it('shows every family/state combination of tcpstate_sockets with the snapshot counts', async () => {
    const exporter = metrics();
    const snapshot = exampleSnapshot();
    exporter.update(snapshot);
    const body = await text(exporter);
    expect(samplesOf(body, 'tcpstate_sockets')).toHaveLength(22);
    for (const family of FAMILIES) {
      for (const state of TCP_STATES) {
        expect(sampleValue(body, 'tcpstate_sockets', { family, state })).toBe(
          snapshot.sockets?.states[family][state],
        );
      }
    }
  });

  it('shows the port, ephemeral, sockstat, netstat and sysctl numbers of the snapshot', async () => {
    const exporter = metrics();
    exporter.update(exampleSnapshot());
    const body = await text(exporter);
    expect(
      sampleValue(body, 'tcpstate_local_port_sockets', { port: '80', state: 'established' }),
    ).toBe(3);
    expect(
      sampleValue(body, 'tcpstate_local_port_sockets', { port: 'other', state: 'close_wait' }),
    ).toBe(2);
    expect(
      sampleValue(body, 'tcpstate_remote_port_sockets', { port: '9000', state: 'time_wait' }),
    ).toBe(120);
    // LISTEN never applies to a port's inbound or outbound sockets.
    expect(
      samplesOf(body, 'tcpstate_local_port_sockets').filter((s) => s.labels.state === 'listen'),
    ).toEqual([]);
    expect(sampleValue(body, 'tcpstate_ephemeral_ports_usable')).toBe(EXAMPLE_EPHEMERAL.usable);
    expect(sampleValue(body, 'tcpstate_ephemeral_ports_used_max')).toBe(EXAMPLE_EPHEMERAL.usedMax);
    expect(sampleValue(body, 'tcpstate_ephemeral_port_headroom_ratio')).toBeCloseTo(
      EXAMPLE_EPHEMERAL.headroomRatio,
      12,
    );
    expect(
      sampleValue(body, 'tcpstate_ephemeral_ports_used', {
        local_address: '198.18.0.1',
        remote_address: '198.18.0.2',
        remote_port: '443',
      }),
    ).toBe(7);
    expect(sampleValue(body, 'tcpstate_sockstat_sockets', { family: 'ipv4', kind: 'tw' })).toBe(
      125,
    );
    expect(sampleValue(body, 'tcpstate_sockstat_sockets', { family: 'ipv6', kind: 'inuse' })).toBe(
      3,
    );
    // mem is not one of the kinds; ipv6 has no tw line.
    expect(samplesOf(body, 'tcpstate_sockstat_sockets')).toHaveLength(5);
    expect(sampleValue(body, 'tcpstate_timewait_finished_total')).toBe(5000);
    expect(sampleValue(body, 'tcpstate_timewait_reused_total')).toBe(30);
    expect(sampleValue(body, 'tcpstate_paws_rejected_total', { stage: 'active' })).toBe(2);
    expect(sampleValue(body, 'tcpstate_established_resets_total')).toBe(8);
    // The example kernel lacks TCPTimeWaitOverflow: no invented zero.
    expect(samplesOf(body, 'tcpstate_timewait_overflows_total')).toEqual([]);
    expect(sampleValue(body, 'tcpstate_sysctl', { name: 'net.ipv4.ip_local_port_range.low' })).toBe(
      32768,
    );
    expect(sampleValue(body, 'tcpstate_sysctl', { name: 'net.ipv4.tcp_max_tw_buckets' })).toBe(
      262144,
    );
  });

  it('serves nothing from collectors before the first snapshot', async () => {
    const exporter = metrics();
    const names = new Set(parseSamples(await text(exporter)).map((sample) => sample.name));
    for (const families of Object.values(COLLECTOR_FAMILIES)) {
      for (const family of families) expect(names.has(family), family).toBe(false);
    }
    expect(names.has('tcpstate_collector_success')).toBe(false);
    expect(names.has('tcpstate_build_info')).toBe(true);
    expect(names.has('process_cpu_seconds_total')).toBe(true);
  });

  it('drops the series of a failed source, reports success 0, and restores them on recovery', async () => {
    const exporter = metrics();
    exporter.update(exampleSnapshot());
    exporter.update(exampleSnapshot({ failed: ['sockets', 'netstat'] }));
    let body = await text(exporter);
    for (const collector of ['sockets', 'ports', 'ephemeral', 'netstat'] as const) {
      for (const family of COLLECTOR_FAMILIES[collector]) {
        expect(samplesOf(body, family), family).toEqual([]);
      }
      expect(sampleValue(body, 'tcpstate_collector_success', { collector })).toBe(0);
    }
    for (const collector of ['sockstat', 'sysctl'] as const) {
      expect(sampleValue(body, 'tcpstate_collector_success', { collector })).toBe(1);
      expect(samplesOf(body, COLLECTOR_FAMILIES[collector][0] ?? '')).not.toEqual([]);
    }
    exporter.update(exampleSnapshot());
    body = await text(exporter);
    expect(samplesOf(body, 'tcpstate_sockets')).toHaveLength(22);
    expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'netstat' })).toBe(1);
  });

  it('fails only the ephemeral collector when the snapshot has no port range', async () => {
    const exporter = metrics();
    const { ephemeral: _dropped, ...withoutEphemeral } = exampleSocketTables();
    exporter.update(exampleSnapshot({ sockets: withoutEphemeral }));
    const body = await text(exporter);
    expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'ephemeral' })).toBe(0);
    expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'sockets' })).toBe(1);
    expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'ports' })).toBe(1);
    for (const family of COLLECTOR_FAMILIES.ephemeral) expect(samplesOf(body, family)).toEqual([]);
  });

  it('emits nothing at all, not even HELP, for a disabled collector', async () => {
    const collectors = {
      ...allCollectors(),
      ports: false,
      netstat: false,
      netns: false,
      conntrack: false,
      snat: false,
      'connect-errors': false,
    };
    const exporter = metrics(collectors);
    exporter.update(exampleSnapshot());
    const body = await text(exporter);
    for (const family of [
      ...COLLECTOR_FAMILIES.ports,
      ...COLLECTOR_FAMILIES.netstat,
      ...COLLECTOR_FAMILIES.conntrack,
    ]) {
      expect(body).not.toContain(family);
    }
    const reported = samplesOf(body, 'tcpstate_collector_success').map((s) => s.labels.collector);
    expect(reported.sort()).toEqual(['ephemeral', 'sockets', 'sockstat', 'sysctl']);
  });

  it('maps each collector to its source duration', async () => {
    const exporter = metrics();
    const snapshot = exampleSnapshot();
    exporter.update(snapshot);
    const body = await text(exporter);
    for (const [collector, source] of [
      ['ports', 'sockets'],
      ['sockstat', 'sockstat'],
    ] as const) {
      expect(sampleValue(body, 'tcpstate_collector_duration_seconds', { collector })).toBe(
        snapshot.sources[source]?.durationSeconds,
      );
    }
  });

  it('accumulates malformed lines and skipped samples over samples', async () => {
    const exporter = metrics();
    const once = exampleSnapshot();
    exporter.update(once);
    exporter.update(exampleSnapshot({ timestampMs: 1_700_000_005_000 }));
    exporter.countSkipped();
    const body = await text(exporter);
    const perSample = once.sockets?.tcp.malformed ?? Number.NaN;
    expect(perSample).toBeGreaterThan(0);
    expect(sampleValue(body, 'tcpstate_malformed_lines_total', { file: 'tcp' })).toBe(
      2 * perSample,
    );
    expect(sampleValue(body, 'tcpstate_malformed_lines_total', { file: 'tcp6' })).toBe(0);
    expect(sampleValue(body, 'tcpstate_samples_skipped_total')).toBe(1);
    expect(sampleValue(body, 'tcpstate_sample_duration_seconds_count')).toBe(2);
    expect(sampleValue(body, 'tcpstate_last_sample_timestamp_seconds')).toBe(1_700_000_005);
    expect(
      sampleValue(body, 'tcpstate_build_info', { version: '9.8.7', node_version: process.version }),
    ).toBe(1);
  });

  it('counts the samples in which a destination had no usable port left', async () => {
    const exporter = metrics();
    const tables = exampleSocketTables();
    const ephemeral = tables.ephemeral ?? EXAMPLE_EPHEMERAL;
    const dry = { ...tables, ephemeral: { ...ephemeral, usedMax: ephemeral.usable } };
    const { ephemeral: _dropped, ...withoutRange } = tables;
    exporter.update(exampleSnapshot());
    expect(sampleValue(await text(exporter), 'tcpstate_ephemeral_exhausted_samples_total')).toBe(0);
    for (const sockets of [dry, tables, dry, withoutRange]) {
      exporter.update(exampleSnapshot({ sockets }));
    }
    expect(sampleValue(await text(exporter), 'tcpstate_ephemeral_exhausted_samples_total')).toBe(2);
  });

  it('serves the configured sample interval when it has one, and none for a single sample', async () => {
    const daemon = new ExporterMetrics({
      collectors: allCollectors(),
      version: '9.8.7',
      sampleIntervalSeconds: 2.5,
    });
    daemon.update(exampleSnapshot());
    expect(sampleValue(await text(daemon), 'tcpstate_sample_interval_seconds')).toBe(2.5);
    const once = metrics();
    once.update(exampleSnapshot());
    expect(samplesOf(await text(once), 'tcpstate_sample_interval_seconds')).toEqual([]);
  });

  it('names counters per format: _total families in text, _total samples in OpenMetrics', async () => {
    const exporter = metrics();
    exporter.update(exampleSnapshot());
    const openMetrics = await exporter.render('openmetrics');
    expect(openMetrics.contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    const omBody = openMetrics.body.toString();
    expect(omBody.endsWith('# EOF\n')).toBe(true);
    expect(omBody.match(/# EOF/g)).toHaveLength(1);
    const omTypes = familyTypes(omBody);
    expect(omTypes.get('tcpstate_active_opens')).toBe('counter');
    expect(omTypes.get('tcpstate_samples_skipped')).toBe('counter');
    expect(sampleValue(omBody, 'tcpstate_active_opens_total')).toBe(7000);

    // Rendered after OpenMetrics on purpose: the text registry must keep its counter names.
    const plain = await exporter.render('text');
    expect(plain.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const plainBody = plain.body.toString();
    const textTypes = familyTypes(plainBody);
    expect(textTypes.get('tcpstate_active_opens_total')).toBe('counter');
    expect(textTypes.get('tcpstate_sockets')).toBe('gauge');
    expect(textTypes.get('tcpstate_sample_duration_seconds')).toBe('histogram');
    expect(sampleValue(plainBody, 'tcpstate_active_opens_total')).toBe(7000);
  });

  it('puts HELP text on every family', async () => {
    const exporter = metrics();
    exporter.update(exampleSnapshot());
    const body = await text(exporter);
    const helped = new Set([...body.matchAll(/^# HELP (\S+) \S/gm)].map((match) => match[1]));
    for (const family of familyTypes(body).keys()) expect(helped.has(family), family).toBe(true);
  });
});

describe('ExporterMetrics buffers', () => {
  it('serves every scrape of one sample the same buffer, and a new one after the next sample', async () => {
    const exporter = metrics();
    exporter.update(exampleSnapshot());
    const scrapes = await Promise.all(
      Array.from({ length: 4 }, () => exporter.render('openmetrics', 'gzip')),
    );
    for (const scrape of scrapes) expect(scrape.body).toBe(scrapes[0]?.body);
    const identity = await exporter.render('openmetrics', 'identity');
    expect(gunzipSync(scrapes[0]?.body as Buffer).toString()).toBe(identity.body.toString());

    exporter.update(exampleSnapshot({ timestampMs: 1_700_000_005_000 }));
    const next = await exporter.render('openmetrics', 'gzip');
    expect(next.body).not.toBe(scrapes[0]?.body);
    expect(
      sampleValue(gunzipSync(next.body).toString(), 'tcpstate_last_sample_timestamp_seconds'),
    ).toBe(1_700_000_005);
    exporter.close();
  });

  it('serves a sample rendered elsewhere as it would have rendered it, totals included', async () => {
    const options = { collectors: allCollectors(), version: '9.8.7', sampleIntervalSeconds: 5 };
    const here = new ExporterMetrics(options);
    const adopting = new ExporterMetrics(options);
    const worker = new SampleExposition(options);
    for (const timestampMs of [1_700_000_000_000, 1_700_000_005_000]) {
      const snapshot = exampleSnapshot({ timestampMs });
      here.update(snapshot);
      const totals = addSample(adopting.sampleTotals, snapshot);
      const exposition = await worker.render(snapshot, totals);
      adopting.update(snapshot, { totals, exposition });
      expect(adopting.sampleTotals).toEqual(here.sampleTotals);
    }
    const withoutLive = (body: string) =>
      body.slice(0, body.indexOf('# HELP tcpstate_samples_skipped'));
    for (const format of ['text', 'openmetrics'] as const) {
      const expected = withoutLive((await here.render(format)).body.toString());
      expect(expected).toContain('tcpstate_sample_duration_seconds_count 2');
      expect(withoutLive((await adopting.render(format)).body.toString())).toBe(expected);
      expect(withoutLive(gunzipSync((await adopting.render(format, 'gzip')).body).toString())).toBe(
        expected,
      );
    }
    here.close();
    adopting.close();
  });

  it('renders each body on an ArrayBuffer of its own, so it can be transferred', async () => {
    const rendered = await new SampleExposition({
      collectors: allCollectors(),
      version: '1',
    }).render(exampleSnapshot(), addSample(emptyTotals(), exampleSnapshot()));
    const buffers = new Set(EXPOSITION_KEYS.map((key) => rendered[key].buffer));
    expect(buffers.size).toBe(EXPOSITION_KEYS.length);
    for (const key of EXPOSITION_KEYS) {
      expect(rendered[key].byteOffset).toBe(0);
      expect(rendered[key].byteLength).toBe(rendered[key].buffer.byteLength);
    }
  });

  it('keeps the process metrics current: the live part is rendered again every second', async () => {
    const exporter = metrics();
    exporter.update(exampleSnapshot());
    const first = await exporter.render('text');
    expect((await exporter.render('text')).body).toBe(first.body);
    exporter.countSkipped();
    // Busy for a while, so the process has used measurably more CPU by the next refresh.
    const until = performance.now() + 50;
    while (performance.now() < until) {}
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const later = await exporter.render('text');
    expect(later.body).not.toBe(first.body);
    const before = first.body.toString();
    const after = later.body.toString();
    expect(sampleValue(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(
      sampleValue(before, 'process_cpu_user_seconds_total') as number,
    );
    expect(sampleValue(before, 'tcpstate_samples_skipped_total')).toBe(0);
    expect(sampleValue(after, 'tcpstate_samples_skipped_total')).toBe(1);
    exporter.close();
  });
});

describe.skipIf(!canRun('promtool check of the exposition', { commands: ['promtool'] }))(
  'ExporterMetrics exposition under promtool',
  () => {
    it('passes promtool check metrics with all collectors, some failed, and none', async () => {
      const cases = [
        { collectors: allCollectors(), failed: [] },
        { collectors: allCollectors(), failed: ['sockets', 'sysctl'] as const },
        { collectors: allCollectors(false), failed: [] },
      ];
      for (const { collectors, failed } of cases) {
        const exporter = metrics(collectors);
        exporter.update(exampleSnapshot({ failed }));
        exporter.countSkipped();
        expect(promtoolCheckMetrics(await text(exporter))).toBe('');
      }
    });
  },
);
