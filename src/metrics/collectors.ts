/**
 * The six collectors: which part of a snapshot each one reads and the metric families it
 * turns that part into. A collector whose part is missing (its source failed) shows no
 * series at all and reports success 0.
 */

import {
  type Destination,
  type EphemeralPorts,
  FAMILIES,
  type NetstatCounters,
  type PortStateCounts,
  type Snapshot,
  type SocketTables,
  type Sockstat,
  type Sysctls,
  TCP_STATES,
  type TcpState,
} from '../snapshot/model.js';
import { COLLECTOR_SOURCE, type CollectorName } from './collector-names.js';
import { type ConstMetricDefinition, type ConstSample, sample } from './const-metric.js';

export interface CollectorDefinition<Data> {
  readonly name: CollectorName;
  /** The part of the snapshot this collector reads; undefined when it is not there. */
  readonly select: (snapshot: Snapshot) => Data | undefined;
  /** Why the part is missing although the source succeeded (ephemeral without a port range). */
  readonly missingReason?: (snapshot: Snapshot) => string | undefined;
  readonly metrics: readonly ConstMetricDefinition<Data>[];
}

/** A port's inbound or outbound sockets can never be LISTEN: that state is left out. */
const PORT_STATES = TCP_STATES.filter((state): state is Exclude<TcpState, 'listen'> => {
  return state !== 'listen';
});

function* portStateSamples(ports: readonly PortStateCounts[]): Iterable<ConstSample> {
  for (const { port, states } of ports) {
    for (const state of PORT_STATES) yield sample(states[state], { port: String(port), state });
  }
}

const sockets: CollectorDefinition<SocketTables> = {
  name: 'sockets',
  select: (snapshot) => snapshot.sockets,
  metrics: [
    {
      name: 'tcpstate_sockets',
      help: 'TCP sockets by address family (the tcp or tcp6 table) and state; every combination is always present.',
      type: 'gauge',
      labelNames: ['family', 'state'],
      *samples(tables) {
        for (const family of FAMILIES) {
          for (const state of TCP_STATES) {
            yield sample(tables.states[family][state], { family, state });
          }
        }
      },
    },
  ],
};

const ports: CollectorDefinition<SocketTables> = {
  name: 'ports',
  select: (snapshot) => snapshot.sockets,
  metrics: [
    {
      name: 'tcpstate_local_port_sockets',
      help: 'Inbound sockets (not LISTEN) by the listening local port they belong to and state; ports beyond --collector.ports.max-listen are summed into port="other".',
      type: 'gauge',
      labelNames: ['port', 'state'],
      samples: (tables) => portStateSamples(tables.listenPorts),
    },
    {
      name: 'tcpstate_remote_port_sockets',
      help: 'Outbound sockets (local port not listening) by remote port and state, for the ports with most sockets; the rest are summed into port="other".',
      type: 'gauge',
      labelNames: ['port', 'state'],
      samples: (tables) => portStateSamples(tables.remotePorts),
    },
    {
      name: 'tcpstate_listen_queue_length',
      help: 'Connections waiting for accept() on the listening port (its longest listener\'s rx_queue); ports beyond --collector.ports.max-listen share port="other", the longest of them.',
      type: 'gauge',
      labelNames: ['port'],
      samples: (tables) =>
        tables.listenQueues.map((queue) => sample(queue.length, { port: String(queue.port) })),
    },
  ],
};

const DESTINATION_LABELS = ['local_address', 'remote_address', 'remote_port'] as const;

/** One sample per top destination of `value`. */
function destinationSamples(
  ports: EphemeralPorts,
  value: (destination: Destination) => number,
): ConstSample[] {
  return ports.destinations.map((destination) =>
    sample(value(destination), {
      local_address: destination.localAddress,
      remote_address: destination.remoteAddress,
      remote_port: String(destination.remotePort),
    }),
  );
}

const ephemeral: CollectorDefinition<EphemeralPorts> = {
  name: 'ephemeral',
  select: (snapshot) => snapshot.sockets?.ephemeral,
  missingReason: (snapshot) => snapshot.sockets?.ephemeralError,
  metrics: [
    {
      name: 'tcpstate_ephemeral_ports_usable',
      help: 'Ephemeral ports connect() examines: ip_local_port_range (without its lowest port when its size is odd) minus reserved and listening ports.',
      type: 'gauge',
      samples: (ports) => [sample(ports.usable)],
    },
    {
      name: 'tcpstate_ephemeral_ports_used',
      help: 'Ephemeral ports connect() cannot use toward one destination (local address, remote address, remote port) now: its sockets except TIME_WAIT the kernel would reuse; the destinations with most.',
      type: 'gauge',
      labelNames: DESTINATION_LABELS,
      samples: (ports) => destinationSamples(ports, (destination) => destination.used),
    },
    {
      name: 'tcpstate_ephemeral_ports_used_max',
      help: "The worst destination's ports that block connect(); usable - used_max further connect()s to it succeed, then it fails with EADDRNOTAVAIL.",
      type: 'gauge',
      samples: (ports) => [sample(ports.usedMax)],
    },
    {
      name: 'tcpstate_ephemeral_ports_time_wait',
      help: 'TIME_WAIT sockets toward each destination of tcpstate_ephemeral_ports_used, reusable or not.',
      type: 'gauge',
      labelNames: DESTINATION_LABELS,
      samples: (ports) => destinationSamples(ports, (destination) => destination.timeWait),
    },
    {
      name: 'tcpstate_ephemeral_port_hold_seconds',
      help: 'How long a connection this host closes first keeps its port from connect() toward the destination: tcp_tw_reuse_delay when TIME_WAIT reuse applies to it, else 60; usable / this is the new-connection rate it sustains.',
      type: 'gauge',
      labelNames: DESTINATION_LABELS,
      samples: (ports) => destinationSamples(ports, (destination) => destination.holdSeconds),
    },
    {
      name: 'tcpstate_ephemeral_ports_held',
      help: 'Distinct usable ephemeral ports held by any socket but a listener: what clients that bind() before connect() can no longer get (their limit is usable - held).',
      type: 'gauge',
      samples: (ports) => [sample(ports.held)],
    },
    {
      name: 'tcpstate_ephemeral_port_headroom_ratio',
      help: 'Share of usable ephemeral ports still free toward the most used destination: 1 - used_max / usable.',
      type: 'gauge',
      samples: (ports) => [sample(ports.headroomRatio)],
    },
    {
      name: 'tcpstate_ephemeral_destinations',
      help: 'Distinct destinations with at least one port that blocks connect() (tcpstate_ephemeral_ports_used shows the top ones).',
      type: 'gauge',
      samples: (ports) => [sample(ports.destinationCount)],
    },
  ],
};

const SOCKSTAT_KINDS = ['inuse', 'orphan', 'tw', 'alloc'] as const;

const sockstat: CollectorDefinition<Sockstat> = {
  name: 'sockstat',
  select: (snapshot) => snapshot.sockstat,
  metrics: [
    {
      name: 'tcpstate_sockstat_sockets',
      help: 'Kernel TCP socket totals from net/sockstat(6) by kind: inuse and tw count this network namespace, orphan and alloc the whole host.',
      type: 'gauge',
      labelNames: ['family', 'kind'],
      *samples(stat) {
        for (const [family, fields] of [
          ['ipv4', stat.ipv4],
          ['ipv6', stat.ipv6],
        ] as const) {
          if (fields === undefined) continue;
          for (const kind of SOCKSTAT_KINDS) {
            const value = fields[kind];
            if (value !== undefined) yield sample(value, { family, kind });
          }
        }
      },
    },
    {
      name: 'tcpstate_sockstat_memory_pages',
      help: 'Memory all TCP sockets of the host hold, in pages (net/sockstat TCP mem); compare with tcpstate_sysctl{name=~"net.ipv4.tcp_mem.*"}.',
      type: 'gauge',
      samples: (stat) => (stat.ipv4.mem === undefined ? [] : [sample(stat.ipv4.mem)]),
    },
  ],
};

/** A counter from one kernel field; absent when the kernel lacks the field. */
function kernelCounter(
  name: string,
  help: string,
  table: keyof NetstatCounters,
  field: string,
): ConstMetricDefinition<NetstatCounters> {
  return {
    name,
    help: `${help} (${table === 'tcpExt' ? 'TcpExt' : 'Tcp'} ${field}).`,
    type: 'counter',
    samples: (counters) => {
      const value = counters[table][field];
      return value === undefined ? [] : [sample(value)];
    },
  };
}

const netstat: CollectorDefinition<NetstatCounters> = {
  name: 'netstat',
  select: (snapshot) => snapshot.netstat,
  metrics: [
    kernelCounter(
      'tcpstate_timewait_finished_total',
      'Sockets put into TIME_WAIT for the full period (TcpExt TW); the kernel counts them when it arms the timer, so the rate is how fast TIME_WAIT sockets are created',
      'tcpExt',
      'TW',
    ),
    kernelCounter(
      'tcpstate_timewait_killed_total',
      'TIME_WAIT (or orphaned FIN_WAIT2) sockets given a short timeout of 4 s or less (TcpExt TWKilled)',
      'tcpExt',
      'TWKilled',
    ),
    kernelCounter(
      'tcpstate_timewait_reused_total',
      'TIME_WAIT 4-tuples reused by connect() (tcp_tw_reuse)',
      'tcpExt',
      'TWRecycled',
    ),
    kernelCounter(
      'tcpstate_timewait_overflows_total',
      'TIME_WAIT sockets destroyed at once because tcp_max_tw_buckets was reached',
      'tcpExt',
      'TCPTimeWaitOverflow',
    ),
    {
      name: 'tcpstate_paws_rejected_total',
      help: 'Segments rejected by the PAWS timestamp check, by stage: active (SYN-ACK to a connect(), TcpExt PAWSActive), established (TcpExt PAWSEstab), timewait (segments to a TIME_WAIT socket, TcpExt PAWSTimewait), old_ack (old ACKs, TcpExt PAWSOldAck), tsecr_rejected (echoed timestamp not sent by us, TcpExt TSEcrRejected); each stage only where the kernel counts it.',
      type: 'counter',
      labelNames: ['stage'],
      *samples(counters) {
        for (const [stage, field] of [
          ['active', 'PAWSActive'],
          ['established', 'PAWSEstab'],
          ['timewait', 'PAWSTimewait'],
          ['old_ack', 'PAWSOldAck'],
          ['tsecr_rejected', 'TSEcrRejected'],
        ] as const) {
          const value = counters.tcpExt[field];
          if (value !== undefined) yield sample(value, { stage });
        }
      },
    },
    kernelCounter(
      'tcpstate_listen_overflows_total',
      'Connections dropped because a listen queue was full',
      'tcpExt',
      'ListenOverflows',
    ),
    kernelCounter(
      'tcpstate_listen_drops_total',
      'Connection requests dropped by listeners for any reason',
      'tcpExt',
      'ListenDrops',
    ),
    kernelCounter(
      'tcpstate_syn_queue_full_drops_total',
      "Connection requests dropped because a listener's SYN queue was full and SYN cookies were off",
      'tcpExt',
      'TCPReqQFullDrop',
    ),
    kernelCounter(
      'tcpstate_syn_queue_full_cookies_total',
      "SYN cookies sent because a listener's SYN queue was full",
      'tcpExt',
      'TCPReqQFullDoCookies',
    ),
    kernelCounter(
      'tcpstate_syncookies_sent_total',
      'SYN cookies sent in reply to SYNs',
      'tcpExt',
      'SyncookiesSent',
    ),
    kernelCounter(
      'tcpstate_syncookies_failed_total',
      'ACKs whose SYN cookie did not validate',
      'tcpExt',
      'SyncookiesFailed',
    ),
    kernelCounter(
      'tcpstate_memory_pressures_total',
      'Times TCP entered memory pressure, when sockstat mem reached the tcp_mem pressure value',
      'tcpExt',
      'TCPMemoryPressures',
    ),
    kernelCounter(
      'tcpstate_memory_aborts_total',
      'Connections reset because TCP was out of memory or too many orphans existed',
      'tcpExt',
      'TCPAbortOnMemory',
    ),
    kernelCounter(
      'tcpstate_active_opens_total',
      'Connections opened by connect()',
      'tcp',
      'ActiveOpens',
    ),
    kernelCounter(
      'tcpstate_passive_opens_total',
      'Connections accepted by listeners',
      'tcp',
      'PassiveOpens',
    ),
    kernelCounter(
      'tcpstate_attempt_fails_total',
      'Connection attempts that failed before reaching ESTABLISHED',
      'tcp',
      'AttemptFails',
    ),
    kernelCounter(
      'tcpstate_established_resets_total',
      'ESTABLISHED or CLOSE_WAIT connections reset',
      'tcp',
      'EstabResets',
    ),
  ],
};

const sysctl: CollectorDefinition<Sysctls> = {
  name: 'sysctl',
  select: (snapshot) => snapshot.sysctl,
  metrics: [
    {
      name: 'tcpstate_sysctl',
      help: 'Numeric TCP sysctls that govern TIME_WAIT, ephemeral ports, listen queues and TCP memory, by dotted name; ip_local_port_range as .low and .high, tcp_mem (pages) as .min, .pressure and .max.',
      type: 'gauge',
      labelNames: ['name'],
      samples: (sysctls) =>
        Object.keys(sysctls.values)
          .sort()
          .map((name) => sample(sysctls.values[name] ?? Number.NaN, { name })),
    },
  ],
};

/** Every collector, in the order their metrics appear. */
export const COLLECTORS = [sockets, ports, ephemeral, sockstat, netstat, sysctl] as const;

export interface CollectorStatus {
  readonly name: CollectorName;
  readonly success: boolean;
  readonly durationSeconds: number;
  readonly error?: string;
}

/** Success, duration and error of each enabled collector in a snapshot. */
export function collectorStatuses(
  snapshot: Snapshot,
  enabled: Readonly<Record<CollectorName, boolean>>,
): CollectorStatus[] {
  const statuses: CollectorStatus[] = [];
  for (const collector of COLLECTORS as readonly CollectorDefinition<unknown>[]) {
    if (!enabled[collector.name]) continue;
    const source = snapshot.sources[COLLECTOR_SOURCE[collector.name]];
    const present = collector.select(snapshot) !== undefined;
    const success = source?.success === true && present;
    const error = success
      ? undefined
      : (source?.error ??
        collector.missingReason?.(snapshot) ??
        (source === undefined ? 'source not sampled' : 'no data'));
    statuses.push({
      name: collector.name,
      success,
      durationSeconds: source?.durationSeconds ?? 0,
      ...(error === undefined ? {} : { error }),
    });
  }
  return statuses;
}
