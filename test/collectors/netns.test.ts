/** The netns families rendered from a round: identity labels, every family, the round's outcome. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { NETNS_ROUNDS, netnsCollector } from '../../src/collectors/netns.js';
import { COLLECTOR_NAMES, type CollectorName } from '../../src/collectors/registry.js';
import { SOCKSTAT_FAST } from '../../src/collectors/sockstat.js';
import { registerConstMetric } from '../../src/metrics/const-metric.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import { addSample, emptyTotals, SampleExposition } from '../../src/metrics/sample-exposition.js';
import { emptyStateCounts } from '../../src/snapshot/model.js';
import { EXPORTED_NAMESPACE_SYSCTLS } from '../../src/snapshot/netns-round.js';
import type { NamespaceSample, NetnsRound, NetnsView } from '../../src/snapshot/netns-view.js';
import { TCP_EXT_FIELDS, TCP_FIELDS } from '../../src/sources/netstat.js';
import type { SockstatPeaks } from '../../src/sources/sockstat-peaks.js';
import { exampleSnapshot } from '../../testkit/exporter/exporter-snapshots.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';

function namespace(inode: number, owner: NamespaceSample['owner']): NamespaceSample {
  const ipv4 = { ...emptyStateCounts(), established: 3, time_wait: 5 };
  return {
    inode,
    pid: 42,
    process: 'nginx',
    owner,
    states: { ipv4, ipv6: emptyStateCounts() },
    socketCount: 8,
    ephemeral: {
      rangeLow: 40000,
      rangeHigh: 40099,
      usable: 100,
      usedMax: 8,
      held: 8,
      reuse: { twReuse: 0, twReuseDelayMs: 1000, timestamps: 1 },
      headroomRatio: 0.92,
      destinations: [
        {
          localAddress: '10.1.0.5',
          remoteAddress: '10.2.0.9',
          remotePort: 9000,
          used: 8,
          timeWait: 5,
          holdSeconds: 60,
        },
      ],
      destinationCount: 1,
    },
    exhaustedRounds: 2,
    walkTimestampMs: 1_699_999_940_000,
    sockstat: { ipv4: { inuse: 3, tw: 5 }, ipv6: { inuse: 1 } },
    netstat: { tcpExt: { TW: 11, TWRecycled: 2, ListenOverflows: 0 }, tcp: { ActiveOpens: 30 } },
    sysctls: { 'net.ipv4.ip_local_port_range.low': 40000, 'net.ipv4.tcp_tw_reuse': 0 },
    sysctlsAssumed: false,
  };
}

async function render(view: NetnsView): Promise<string> {
  const registry = new Registry();
  for (const definition of netnsCollector.metrics) {
    registerConstMetric(registry, definition, () => view);
  }
  return registry.metrics();
}

const ALL = Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, true])) as Record<
  CollectorName,
  boolean
>;

/** A round as the netns source publishes it, its read failures counted from this one. */
function view(netnsRound: NetnsRound, readFailures = netnsRound.failures.length): NetnsView {
  return { round: netnsRound, readFailures };
}

/** The exposition of every collector: the node's example snapshot and `netns` as the latest round. */
async function exposition(
  netns: NetnsRound,
  namespacePeaks: Record<string, SockstatPeaks> = {},
): Promise<string> {
  const exporter = new ExporterMetrics({ collectors: ALL, version: '1' });
  exporter.update({ ...exampleSnapshot(), netnsInode: 4026531840 });
  exporter.sources.publish(NETNS_ROUNDS, view(netns));
  exporter.sources.publish(SOCKSTAT_FAST, {
    node: { windowSeconds: 60, ipv4: { inuse: 1 } },
    namespaces: namespacePeaks,
  });
  return (await exporter.render('text')).body.toString();
}

const round: NetnsRound = {
  timestampMs: 1_700_000_000_000,
  durationSeconds: 0.25,
  namespaces: [
    namespace(4026532500, {
      pod: 'web-0',
      namespace: 'shop',
      container: 'nginx',
      containerId: 'ab'.repeat(32),
    }),
    namespace(4026532600, { pod: '', namespace: '', container: '', containerId: '' }),
  ],
  dropped: 3,
  walked: 1,
  deferred: 0,
  failures: [{ inode: 1, pid: 2, error: 'gone' }],
};

describe('netns metric families', () => {
  it("puts each namespace's numbers in the node's families, labelled with netns, pod, namespace and container", async () => {
    const text = await exposition(round, {
      4026532500: { windowSeconds: 60, ipv4: { inuse: 40, tw: 7 } },
    });
    const id = 'netns="4026532500",pod="web-0",namespace="shop",container="nginx"';
    const node = 'netns="4026531840",pod="",namespace="",container=""';
    expect(text).toContain(
      `tcpstate_netns_info{netns="4026532500",pod="web-0",namespace="shop",container="nginx",container_id="${'ab'.repeat(32)}",process="nginx"} 1`,
    );
    expect(text).toContain(`tcpstate_sockets{family="ipv4",state="time_wait",${id}} 5`);
    expect(text).toContain(`tcpstate_ephemeral_ports_usable{${id}} 100`);
    expect(text).toContain(`tcpstate_ephemeral_ports_used_max{${id}} 8`);
    expect(text).toContain(`tcpstate_ephemeral_ports_held{${id}} 8`);
    expect(text).toContain(`tcpstate_ephemeral_port_headroom_ratio{${id}} 0.92`);
    expect(text).toContain(`tcpstate_ephemeral_destinations{${id}} 1`);
    const destination = 'local_address="10.1.0.5",remote_address="10.2.0.9",remote_port="9000"';
    expect(text).toContain(`tcpstate_ephemeral_ports_used{${destination},${id}} 8`);
    expect(text).toContain(`tcpstate_ephemeral_ports_time_wait{${destination},${id}} 5`);
    expect(text).toContain(`tcpstate_ephemeral_port_hold_seconds{${destination},${id}} 60`);
    expect(text).toContain(`tcpstate_sysctl{name="net.ipv4.tcp_tw_reuse",${id}} 0`);
    expect(text).toContain(`tcpstate_sysctls_assumed{${id}} 0`);
    expect(text).toContain(`tcpstate_sockstat_sockets{family="ipv4",kind="inuse",${id}} 3`);
    expect(text).toContain(`tcpstate_sockstat_sockets{family="ipv6",kind="inuse",${id}} 1`);
    expect(text).toContain(`tcpstate_sockstat_sockets{family="ipv4",kind="tw",${id}} 5`);
    expect(text).toContain(`tcpstate_sockstat_sockets_max{family="ipv4",kind="inuse",${id}} 40`);
    expect(text).toContain(`tcpstate_sockstat_sockets_max{family="ipv4",kind="tw",${id}} 7`);
    expect(text).toContain(`tcpstate_netns_last_walk_timestamp_seconds{${id}} 1699999940`);
    expect(text).toContain(`tcpstate_timewait_finished_total{${id}} 11`);
    expect(text).toContain(`tcpstate_timewait_reused_total{${id}} 2`);
    expect(text).toContain(`tcpstate_active_opens_total{${id}} 30`);
    expect(text).toContain(`tcpstate_ephemeral_exhausted_samples_total{${id}} 2`);
    // A counter the kernel lacks is absent, not 0; the host-wide sockstat kinds are the node's only.
    expect(text).not.toContain(`tcpstate_timewait_killed_total{${id}}`);
    expect(text).not.toMatch(
      new RegExp(`tcpstate_sockstat_sockets\\{[^}]*kind="(orphan|alloc)",${id}`),
    );
    expect(text).not.toContain(`tcpstate_sockstat_memory_pages{${id}}`);
    // The node's own series: its namespace's inode, no owner.
    expect(text).toContain(`tcpstate_sockets{family="ipv4",state="established",${node}} 4`);
    expect(text).toContain(`tcpstate_sockstat_memory_pages{${node}}`);
    // An unknown owner keeps only its namespace.
    expect(text).toContain(
      'tcpstate_ephemeral_ports_usable{netns="4026532600",pod="",namespace="",container=""} 100',
    );
    // 22 family x state series for the node and each namespace.
    expect(text.match(/^tcpstate_sockets\{/gm)).toHaveLength(3 * 22);
  });

  it('keeps tcpstate_netns_* for facts only namespaces have, none restating a node family', async () => {
    const text = await exposition(round);
    const families = new Set(
      [...text.matchAll(/^# TYPE (tcpstate_netns_\w+) /gm)].map((match) => match[1] as string),
    );
    expect([...families].sort()).toEqual([
      'tcpstate_netns_info',
      'tcpstate_netns_last_round_timestamp_seconds',
      'tcpstate_netns_last_walk_timestamp_seconds',
      'tcpstate_netns_namespaces',
      'tcpstate_netns_read_failures_total',
      'tcpstate_netns_round_deferred_walks',
      'tcpstate_netns_round_duration_seconds',
      'tcpstate_netns_round_walks',
    ]);
    const nodeFamilies = new Set(
      [...text.matchAll(/^# TYPE (tcpstate_\w+) /gm)].map((match) => match[1] as string),
    );
    for (const family of families) {
      expect(nodeFamilies.has(family.replace('tcpstate_netns_', 'tcpstate_'))).toBe(false);
    }
  });

  it('adds no namespace labels without --collector.netns', async () => {
    const collectors = { ...ALL, netns: false };
    const exporter = new ExporterMetrics({ collectors, version: '1' });
    exporter.update({ ...exampleSnapshot(), netnsInode: 4026531840 });
    const text = (await exporter.render('text')).body.toString();
    expect(text).toContain('tcpstate_sockets{family="ipv4",state="established"} 4');
    expect(text).not.toContain('netns=');
  });

  it('reports the round: exported, dropped and failed namespaces, failures so far, when and how long', async () => {
    const text = await render({ round, readFailures: 7 });
    expect(text).toContain('tcpstate_netns_namespaces{outcome="exported"} 2');
    expect(text).toContain('tcpstate_netns_namespaces{outcome="dropped"} 3');
    expect(text).toContain('tcpstate_netns_namespaces{outcome="failed"} 1');
    expect(text).toContain('tcpstate_netns_read_failures_total 7');
    expect(text).toContain('tcpstate_netns_last_round_timestamp_seconds 1700000000');
    expect(text).toContain('tcpstate_netns_round_duration_seconds 0.25');
    expect(text).toContain('tcpstate_netns_round_walks 1');
  });
});

describe('netns cardinality', () => {
  it('is at most 72 + 3 x top-destinations series per namespace, as docs/namespaces.md says', async () => {
    const full = namespace(9, { pod: 'p', namespace: 'n', container: 'c', containerId: 'id' });
    const destinations = [1, 2, 3].map((port) => ({
      localAddress: '10.1.0.5',
      remoteAddress: '10.2.0.9',
      remotePort: port,
      used: 1,
      timeWait: 0,
      holdSeconds: 60,
    }));
    const every = (fields: readonly string[]) =>
      Object.fromEntries(fields.map((field) => [field, 1]));
    const sysctls = every(EXPORTED_NAMESPACE_SYSCTLS);
    const text = await exposition(
      {
        ...round,
        namespaces: [
          {
            ...full,
            ephemeral: { ...full.ephemeral, destinations },
            netstat: { tcpExt: every(TCP_EXT_FIELDS), tcp: every(TCP_FIELDS) },
            sysctls,
          },
        ],
      },
      { 9: { windowSeconds: 60, ipv4: { inuse: 5, tw: 6 }, ipv6: { inuse: 1 } } },
    );
    const perNamespace = text.split('\n').filter((line) => line.includes('netns="9"'));
    expect(perNamespace).toHaveLength(72 + 3 * destinations.length);
  });
});

describe('the netns collector in the exposition', () => {
  const collectors = Object.fromEntries(
    COLLECTOR_NAMES.map((name) => [name, name === 'netns']),
  ) as Record<CollectorName, boolean>;

  it('serves the latest round with the node snapshot, counts failures over rounds, and fails on a failed round', async () => {
    const exporter = new ExporterMetrics({ collectors, version: '1' });
    const body = async () => (await exporter.render('text')).body.toString();
    exporter.update(exampleSnapshot());
    // No round yet: failing, no series.
    expect(sampleValue(await body(), 'tcpstate_collector_success', { collector: 'netns' })).toBe(0);
    // The source counts read failures over its rounds: the second round's view has both.
    exporter.sources.publish(NETNS_ROUNDS, view(round));
    exporter.sources.publish(NETNS_ROUNDS, view(round, 2));
    let text = await body();
    expect(sampleValue(text, 'tcpstate_collector_success', { collector: 'netns' })).toBe(1);
    expect(sampleValue(text, 'tcpstate_collector_duration_seconds', { collector: 'netns' })).toBe(
      0.25,
    );
    expect(sampleValue(text, 'tcpstate_netns_read_failures_total', {})).toBe(2);
    // A new node snapshot keeps the round.
    exporter.update(exampleSnapshot());
    text = await body();
    expect(samplesOf(text, 'tcpstate_netns_info')).toHaveLength(2);
    exporter.sources.publish(
      NETNS_ROUNDS,
      view({ ...round, namespaces: [], failures: [], error: 'worker died' }, 2),
    );
    text = await body();
    expect(sampleValue(text, 'tcpstate_collector_success', { collector: 'netns' })).toBe(0);
    expect(samplesOf(text, 'tcpstate_netns_info')).toEqual([]);
    expect(samplesOf(text, 'tcpstate_netns_namespaces')).toEqual([]);
  });
});

describe('the netns round and the sampling worker', () => {
  const collectors = Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, true])) as Record<
    CollectorName,
    boolean
  >;

  it('sends a round to the worker once, and again to a new worker or with a new round', () => {
    const exporter = new ExporterMetrics({ collectors, version: '1' });
    const sent = () => exporter.nextRenderRequest().scheduled?.[NETNS_ROUNDS.name];
    const sentRound = () => (sent()?.result as NetnsView | undefined)?.round;
    expect(sent()).toBeUndefined();
    exporter.sources.publish(NETNS_ROUNDS, view(round));
    expect(sentRound()).toBe(round);
    // The worker keeps it: later requests carry the totals only.
    expect(sent()).toBeUndefined();
    exporter.forgetRenderer();
    expect(sentRound()).toBe(round);
    const next = { ...round, timestampMs: round.timestampMs + 60_000 };
    exporter.sources.publish(NETNS_ROUNDS, view(next));
    expect(sentRound()).toBe(next);
    expect(sent()).toBeUndefined();
  });

  it('leaves bodies the worker rendered to its next sample, and renders a round here otherwise', async () => {
    const options = { collectors, version: '1' };
    const snapshot = exampleSnapshot();
    const totals = addSample(emptyTotals(), snapshot);
    const exposition = await new SampleExposition(options).render(snapshot, totals);
    const fromWorker = new ExporterMetrics(options);
    fromWorker.update(snapshot, { totals, exposition });
    fromWorker.sources.publish(NETNS_ROUNDS, view(round));
    const served = (await fromWorker.render('text')).body.toString();
    expect(samplesOf(served, 'tcpstate_netns_info')).toEqual([]);
    expect(sampleValue(served, 'tcpstate_collector_success', { collector: 'netns' })).toBe(0);

    const here = new ExporterMetrics(options);
    here.update(snapshot);
    here.sources.publish(NETNS_ROUNDS, view(round));
    const rendered = (await here.render('text')).body.toString();
    expect(samplesOf(rendered, 'tcpstate_netns_info')).toHaveLength(2);
  });
});
