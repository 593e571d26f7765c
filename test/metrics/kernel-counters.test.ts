/**
 * The kernel counters and gauges beside the socket tables: SYN queue and SYN cookies, TCP
 * memory, PAWS stages, sockstat memory and the tcp_mem / tcp_max_orphans sysctls. Each series
 * shows the snapshot's value by name and is absent where the kernel lacks the field.
 */
import { describe, expect, it } from 'vitest';
import { COLLECTOR_NAMES, type CollectorName } from '../../src/collectors/registry.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import { exampleSnapshot } from '../../testkit/exporter/exporter-snapshots.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';

// Every collector but netns, which would add the namespace labels to the node's series.
const ALL_ON = Object.fromEntries(
  COLLECTOR_NAMES.map((name) => [name, name !== 'netns']),
) as Record<CollectorName, boolean>;

async function exposition(snapshot: Snapshot): Promise<string> {
  const exporter = new ExporterMetrics({ collectors: ALL_ON, version: '0.0.0' });
  exporter.update(snapshot);
  return (await exporter.render('text')).body.toString();
}

/** The example snapshot with these TcpExt fields, sockstat TCP fields and sysctls instead. */
function snapshotWith(
  tcpExt: Record<string, number>,
  sockstat: Record<string, number>,
  sysctls: Record<string, number>,
): Snapshot {
  const base = exampleSnapshot();
  if (base.netstat === undefined || base.sysctl === undefined) throw new Error('no example');
  return {
    ...base,
    netstat: { ...base.netstat, tcpExt },
    sockstat: { ipv4: sockstat },
    sysctl: { ...base.sysctl, values: sysctls },
  };
}

const NEW_COUNTERS = {
  tcpstate_syn_queue_full_drops_total: 'TCPReqQFullDrop',
  tcpstate_syn_queue_full_cookies_total: 'TCPReqQFullDoCookies',
  tcpstate_syncookies_sent_total: 'SyncookiesSent',
  tcpstate_syncookies_failed_total: 'SyncookiesFailed',
  tcpstate_memory_pressures_total: 'TCPMemoryPressures',
  tcpstate_memory_aborts_total: 'TCPAbortOnMemory',
} as const;

const PAWS_STAGES = {
  active: 'PAWSActive',
  established: 'PAWSEstab',
  timewait: 'PAWSTimewait',
  old_ack: 'PAWSOldAck',
  tsecr_rejected: 'TSEcrRejected',
} as const;

describe('kernel counters by name', () => {
  // Distinct values, so a counter wired to the wrong field shows the wrong number.
  const fields = [...Object.values(NEW_COUNTERS), ...Object.values(PAWS_STAGES)];
  const tcpExt = Object.fromEntries(fields.map((field, index) => [field, 101 + index * 7]));

  it('shows each SYN queue, SYN cookie and TCP memory counter with its field value', async () => {
    const body = await exposition(snapshotWith(tcpExt, {}, {}));
    for (const [metric, field] of Object.entries(NEW_COUNTERS))
      expect(sampleValue(body, metric), metric).toBe(tcpExt[field]);
  });

  it('shows one PAWS stage per counter the kernel has', async () => {
    const body = await exposition(snapshotWith(tcpExt, {}, {}));
    for (const [stage, field] of Object.entries(PAWS_STAGES))
      expect(sampleValue(body, 'tcpstate_paws_rejected_total', { stage }), stage).toBe(
        tcpExt[field],
      );
  });

  it('leaves out what an older kernel lacks instead of inventing zeros', async () => {
    // A 5.x kernel: no PAWSTimewait, PAWSOldAck or TSEcrRejected.
    const older = { PAWSActive: 1, PAWSEstab: 2, TCPReqQFullDrop: 3 };
    const body = await exposition(snapshotWith(older, {}, {}));
    expect(
      samplesOf(body, 'tcpstate_paws_rejected_total')
        .map((sample) => sample.labels.stage)
        .sort(),
    ).toEqual(['active', 'established']);
    expect(sampleValue(body, 'tcpstate_syn_queue_full_drops_total')).toBe(3);
    for (const metric of Object.keys(NEW_COUNTERS).filter((name) => !name.includes('drops')))
      expect(samplesOf(body, metric), metric).toEqual([]);
  });
});

describe('TCP memory and orphans', () => {
  it('shows sockstat mem as pages beside the tcp_mem thresholds and tcp_max_orphans', async () => {
    const sysctls = {
      'net.ipv4.tcp_mem.min': 287892,
      'net.ipv4.tcp_mem.pressure': 383858,
      'net.ipv4.tcp_mem.max': 575784,
      'net.ipv4.tcp_max_orphans': 131072,
    };
    const body = await exposition(
      snapshotWith({}, { inuse: 4, orphan: 12, tw: 0, alloc: 18, mem: 311 }, sysctls),
    );
    expect(sampleValue(body, 'tcpstate_sockstat_memory_pages')).toBe(311);
    expect(sampleValue(body, 'tcpstate_sockstat_sockets', { family: 'ipv4', kind: 'orphan' })).toBe(
      12,
    );
    for (const [name, value] of Object.entries(sysctls))
      expect(sampleValue(body, 'tcpstate_sysctl', { name }), name).toBe(value);
  });

  it('has no memory series when sockstat has no mem field', async () => {
    const body = await exposition(snapshotWith({}, { inuse: 4, tw: 0 }, {}));
    expect(samplesOf(body, 'tcpstate_sockstat_memory_pages')).toEqual([]);
  });
});
