/**
 * Hand-built snapshots for the metrics and server tests: plain data in the engine's model, so
 * a test can say exactly which numbers the exposition must show and which sources failed.
 */
import { defaultSampleOptions } from '../../src/config/defaults.js';
import {
  type EphemeralPorts,
  emptyStateCounts,
  type SampleOptions,
  type Snapshot,
  type SocketTables,
  type SourceName,
  type StateCounts,
} from '../../src/snapshot/model.js';
import { createSampler } from '../../src/snapshot/sample.js';
import type { TableFileStats } from '../../src/sources/tcp-table.js';

export function stateCounts(counts: Partial<StateCounts>): StateCounts {
  return { ...emptyStateCounts(), ...counts };
}

function tableFile(path: string, sockets: number, malformed: number): TableFileStats {
  return {
    path,
    present: true,
    bytes: 150 * (sockets + 1),
    lines: sockets + malformed,
    malformed,
    sockets,
  };
}

export const EXAMPLE_EPHEMERAL: EphemeralPorts = {
  rangeLow: 32768,
  rangeHigh: 60999,
  usable: 28230,
  usedMax: 120,
  held: 131,
  reuse: { twReuse: 2, twReuseDelayMs: 1000, timestamps: 1 },
  headroomRatio: 1 - 120 / 28230,
  destinations: [
    {
      localAddress: '127.0.0.1',
      remoteAddress: '127.0.0.1',
      remotePort: 9000,
      used: 120,
      timeWait: 600,
      holdSeconds: 1,
    },
    {
      localAddress: '198.18.0.1',
      remoteAddress: '198.18.0.2',
      remotePort: 443,
      used: 7,
      timeWait: 4,
      holdSeconds: 60,
    },
  ],
  destinationCount: 3,
};

export function exampleSocketTables(overrides: Partial<SocketTables> = {}): SocketTables {
  const tcp = tableFile('/proc/net/tcp', 131, 2);
  const tcp6 = tableFile('/proc/net/tcp6', 3, 0);
  return {
    tcp,
    tcp6,
    bytesRead: tcp.bytes + tcp6.bytes,
    linesRead: tcp.lines + tcp6.lines,
    states: {
      ipv4: stateCounts({ established: 4, time_wait: 125, listen: 2 }),
      ipv6: stateCounts({ listen: 1, close_wait: 2 }),
    },
    listenPorts: [
      { port: 80, states: stateCounts({ established: 3, time_wait: 1 }) },
      { port: 'other', states: stateCounts({ close_wait: 2 }) },
    ],
    remotePorts: [
      { port: 9000, states: stateCounts({ time_wait: 120, established: 1 }) },
      { port: 443, states: stateCounts({ time_wait: 4 }) },
    ],
    listenQueues: [
      { port: 80, length: 3 },
      { port: 'other', length: 0 },
    ],
    ephemeral: EXAMPLE_EPHEMERAL,
    listeningPorts: [22, 80],
    ...overrides,
  };
}

const ALL_SOURCES: readonly SourceName[] = ['sockets', 'sockstat', 'netstat', 'sysctl'];

/** A snapshot where every source succeeded, except those named in `failed`. */
export function exampleSnapshot(
  options: { failed?: readonly SourceName[]; timestampMs?: number; sockets?: SocketTables } = {},
): Snapshot {
  const failed = new Set(options.failed ?? []);
  const sources: Partial<
    Record<SourceName, { success: boolean; durationSeconds: number; error?: string }>
  > = {};
  for (const name of ALL_SOURCES) {
    sources[name] = failed.has(name)
      ? { success: false, durationSeconds: 0.0001, error: `${name}: ENOENT` }
      : { success: true, durationSeconds: 0.002 };
  }
  return {
    procfsRoot: '/proc',
    timestampMs: options.timestampMs ?? 1_700_000_000_000,
    durationSeconds: 0.004,
    sources,
    ...(failed.has('sockets') ? {} : { sockets: options.sockets ?? exampleSocketTables() }),
    ...(failed.has('sockstat')
      ? {}
      : {
          sockstat: {
            ipv4: { inuse: 7, orphan: 0, tw: 125, alloc: 9, mem: 1 },
            ipv6: { inuse: 3 },
          },
        }),
    ...(failed.has('netstat')
      ? {}
      : {
          netstat: {
            tcpExt: {
              TW: 5000,
              TWKilled: 1,
              TWRecycled: 30,
              PAWSActive: 2,
              PAWSEstab: 0,
              ListenOverflows: 4,
              ListenDrops: 5,
            },
            tcp: {
              ActiveOpens: 7000,
              PassiveOpens: 200,
              AttemptFails: 3,
              EstabResets: 8,
            },
          },
        }),
    ...(failed.has('sysctl')
      ? {}
      : {
          sysctl: {
            values: {
              'net.ipv4.tcp_max_tw_buckets': 262144,
              'net.ipv4.ip_local_port_range.low': 32768,
              'net.ipv4.ip_local_port_range.high': 60999,
              'net.ipv4.tcp_tw_reuse': 2,
            },
            portRange: { low: 32768, high: 60999 },
            reservedPorts: [],
          },
        }),
  };
}

/** One sample of a procfs tree with the default options, some of them replaced. */
export function sampleProcfs(options: Partial<SampleOptions> & { procfsRoot: string }): Snapshot {
  return createSampler({ ...defaultSampleOptions(options.procfsRoot), ...options }).sample();
}
