/**
 * The checks: two snapshots a window apart → findings. Pure: no I/O, no clock. Each
 * check either returns its findings (often none) or says why it could not look.
 * The connect() rules behind the wording are in README.md ("How ephemeral use is counted").
 */
import type {
  Destination,
  EphemeralPorts,
  PortStateCounts,
  Snapshot,
  SocketTables,
} from '../snapshot/model.js';
import { TIME_WAIT_SECONDS } from '../snapshot/socket-accumulator.js';
import {
  isLoopback,
  reservePortsFix,
  sysctlFix,
  twReuseFixes,
  type Upstream,
  upstreamFixes,
} from './advice.js';
import {
  type Check,
  type Context,
  counterEvidence,
  finding,
  needCounter,
  needSockets,
  needSysctl,
  optionalCounter,
  Skip,
  unavailable,
} from './check-context.js';
import { bindFirstPortsLow } from './checks/bind-first.js';
import { orphansNearLimit } from './checks/orphans.js';
import { synQueueOverflow } from './checks/syn-queue.js';
import { tcpMemoryPressure } from './checks/tcp-memory.js';
import { counterChange, round } from './counters.js';
import { type Finding, type FindingId, type FixStep, sortFindings } from './finding.js';
import {
  CLIENT_TIME_WAIT_MIN,
  CLIENT_TIME_WAIT_USABLE_SHARE,
  CLOSE_WAIT_CRITICAL,
  CLOSE_WAIT_WARNING,
  EPHEMERAL_USE_CRITICAL_RATIO,
  EPHEMERAL_USE_WARNING_RATIO,
  PAWS_WARNING_PER_SECOND,
  TIME_WAIT_BUCKETS_CRITICAL_RATIO,
  TIME_WAIT_BUCKETS_WARNING_RATIO,
} from './thresholds.js';

/** A check that could not look, and why. */
export interface SkippedCheck {
  readonly id: FindingId;
  readonly reason: string;
}

export interface Analysis {
  /** Most severe first. */
  readonly findings: readonly Finding[];
  readonly skipped: readonly SkippedCheck[];
}

const PORT_RANGE = 'net.ipv4.ip_local_port_range';
const RESERVED_PORTS = 'net.ipv4.ip_local_reserved_ports';
const TW_REUSE = 'net.ipv4.tcp_tw_reuse';
const TW_REUSE_DELAY = 'net.ipv4.tcp_tw_reuse_delay';
const TIMESTAMPS = 'net.ipv4.tcp_timestamps';
const MAX_TW_BUCKETS = 'net.ipv4.tcp_max_tw_buckets';
const SOMAXCONN = 'net.core.somaxconn';
const MAX_SYN_BACKLOG = 'net.ipv4.tcp_max_syn_backlog';
const SYNCOOKIES = 'net.ipv4.tcp_syncookies';

/** A range wide enough to matter, still clear of the well-known and registered low ports. */
const WIDE_PORT_RANGE = { low: 10000, high: 65535 };

function portRangeText(context: Context): string {
  const range = context.second.sysctl?.portRange;
  const ephemeral = context.sockets?.ephemeral;
  if (range !== undefined) return `${range.low} ${range.high}`;
  return ephemeral === undefined ? 'unknown' : `${ephemeral.rangeLow} ${ephemeral.rangeHigh}`;
}

function isLocalDestination(destination: Destination): boolean {
  return (
    isLoopback(destination.remoteAddress) || destination.remoteAddress === destination.localAddress
  );
}

function describeDestination(destination: Destination): string {
  const remote = destination.remoteAddress.includes(':')
    ? `[${destination.remoteAddress}]`
    : destination.remoteAddress;
  return `${destination.localAddress} -> ${remote}:${destination.remotePort}`;
}

function destinationEvidence(destination: Destination): Record<string, string | number> {
  return {
    localAddress: destination.localAddress,
    remoteAddress: destination.remoteAddress,
    remotePort: destination.remotePort,
    used: destination.used,
    timeWait: destination.timeWait,
    holdSeconds: destination.holdSeconds,
  };
}

function percent(ratio: number): string {
  return `${round(ratio * 100, 1)}%`;
}

/** TIME_WAIT reuse applies toward it: connect() takes its TIME_WAIT ports after the delay. */
function reuseApplies(destination: Destination): boolean {
  return destination.holdSeconds < TIME_WAIT_SECONDS;
}

/**
 * New connections per second a destination sustains when this host closes first: each
 * keeps its port blocked for `holdSeconds`, and there are `usable` ports.
 */
function connectRate(usable: number, holdSeconds: number): number {
  return round(usable / holdSeconds, 1);
}

/** Why reuse applies, in the sysctls' words. */
function reuseReason(ephemeral: EphemeralPorts): string {
  const delay = `${ephemeral.reuse.twReuseDelayMs / 1000} s`;
  return ephemeral.reuse.twReuse === 1
    ? `${TW_REUSE}=1 reuses TIME_WAIT toward every destination once it is ${delay} old`
    : `${TW_REUSE}=2 reuses TIME_WAIT with a loopback address at either end once it is ${delay} old`;
}

/**
 * tcp_tw_reuse=1 changes something for a destination only where reuse does not apply yet
 * and TIME_WAIT makes up at least half of what blocks connect() toward it.
 */
function twReuseWouldHelp(destination: Destination): boolean {
  return !reuseApplies(destination) && destination.timeWait * 2 >= destination.used;
}

function timeWaitTotal(sockets: SocketTables): number {
  return sockets.states.ipv4.time_wait + sockets.states.ipv6.time_wait;
}

function sumTimeWait(ports: readonly PortStateCounts[]): number {
  return ports.reduce((sum, entry) => sum + entry.states.time_wait, 0);
}

/** Listening ports in [low, high] that ip_local_reserved_ports does not cover. */
function unreservedListeners(
  sockets: SocketTables,
  reserved: readonly (readonly [number, number])[],
  low: number,
  high: number,
): number[] {
  return sockets.listeningPorts.filter(
    (port) =>
      port >= low && port <= high && !reserved.some(([from, to]) => port >= from && port <= to),
  );
}

/** Top destinations whose blocking sockets take a large share of the usable ports, worst first. */
function crowdedDestinations(sockets: SocketTables): Destination[] {
  const ephemeral = sockets.ephemeral;
  if (ephemeral === undefined || ephemeral.usable === 0) return [];
  return ephemeral.destinations.filter(
    (destination) => destination.used / ephemeral.usable >= EPHEMERAL_USE_WARNING_RATIO,
  );
}

function clientTimeWaitThreshold(sockets: SocketTables): number {
  const usable = sockets.ephemeral?.usable;
  if (usable === undefined || usable === 0) return CLIENT_TIME_WAIT_MIN;
  return Math.max(
    1,
    Math.min(CLIENT_TIME_WAIT_MIN, Math.ceil(usable * CLIENT_TIME_WAIT_USABLE_SHARE)),
  );
}

/** Outbound remote ports with many TIME_WAIT sockets: this host, as the client, closed first. */
function clientTimeWaitPorts(sockets: SocketTables): { port: number; timeWait: number }[] {
  const threshold = clientTimeWaitThreshold(sockets);
  const ports: { port: number; timeWait: number }[] = [];
  for (const entry of sockets.remotePorts) {
    if (entry.port === 'other' || entry.states.time_wait < threshold) continue;
    ports.push({ port: entry.port, timeWait: entry.states.time_wait });
  }
  return ports.sort((a, b) => b.timeWait - a.timeWait);
}

function destinationsToward(sockets: SocketTables, port: number): Destination[] {
  return (sockets.ephemeral?.destinations ?? []).filter(
    (destination) => destination.remotePort === port,
  );
}

function upstreamOf(port: number, destinations: readonly Destination[]): Upstream {
  return {
    port,
    addresses: [...new Set(destinations.map((destination) => destination.remoteAddress))],
    local: destinations.length > 0 && destinations.every(isLocalDestination),
  };
}

/** Relief that takes effect for the next connect(): more ports, reuse where it changes something. */
function morePortsNow(
  context: Context,
  sockets: SocketTables,
  ephemeral: EphemeralPorts,
  destinations: readonly Destination[],
): FixStep[] {
  const steps: FixStep[] = [];
  if (ephemeral.rangeLow > WIDE_PORT_RANGE.low || ephemeral.rangeHigh < WIDE_PORT_RANGE.high) {
    const low = Math.min(ephemeral.rangeLow, WIDE_PORT_RANGE.low);
    steps.push(
      sysctlFix(
        'Widen the ephemeral port range (applies to the next connect())',
        PORT_RANGE,
        `${low} ${WIDE_PORT_RANGE.high}`,
      ),
    );
    const reserved = context.second.sysctl?.reservedPorts ?? [];
    const exposed = unreservedListeners(sockets, reserved, low, WIDE_PORT_RANGE.high);
    if (exposed.length > 0)
      steps.push(
        reservePortsFix(
          'Reserve the listening ports inside the wider range so clients never take them',
          reserved,
          exposed,
        ),
      );
  }
  if (destinations.some(twReuseWouldHelp)) steps.push(...twReuseFixes(ephemeral.reuse.timestamps));
  steps.push({
    step: 'Spread connections over more destination ports or addresses, or give this host more source addresses: each (source address, destination address, destination port) has its own set of ephemeral ports',
  });
  return steps;
}

function ephemeralHeadroomLow(context: Context): Finding[] {
  const sockets = needSockets(context);
  const ephemeral = sockets.ephemeral;
  if (ephemeral === undefined)
    throw new Skip(`ephemeral ports unknown: ${sockets.ephemeralError ?? 'no port range'}`);
  const range = portRangeText(context);

  if (ephemeral.usable === 0) {
    return [
      finding('ephemeral-headroom-low', 'critical', {
        summary: `no usable ephemeral ports: ${PORT_RANGE} ${range} is all reserved or listening`,
        evidence: { usable: 0, [PORT_RANGE]: range },
        explanation:
          'connect() without bind() has no local port to pick and fails with EADDRNOTAVAIL ("Cannot assign requested address").',
        stopTheBleeding: morePortsNow(context, sockets, ephemeral, []),
        fix: [{ step: 'Keep the range clear of listeners: reserve them or move them below it' }],
      }),
    ];
  }
  return crowdedDestinations(sockets).map((destination) => {
    const ratio = destination.used / ephemeral.usable;
    const severity = ratio >= EPHEMERAL_USE_CRITICAL_RATIO ? 'critical' : 'warning';
    const left = ephemeral.usable - destination.used;
    const rate = connectRate(ephemeral.usable, destination.holdSeconds);
    const reusable = reuseApplies(destination);
    const holding = reusable
      ? `${reuseReason(ephemeral)}, so only TIME_WAIT younger than that and other sockets block it: connect() can still take ${left} ports toward it, and a client that closes first can open about ${rate} connections per second to it.`
      : `Each connection this host closes first keeps its port in TIME_WAIT for a fixed 60 s, so one destination sustains about ${rate} new connections per second.`;
    return finding('ephemeral-headroom-low', severity, {
      summary: `${describeDestination(destination)}: ${destination.used} of ${ephemeral.usable} usable ephemeral ports blocked for connect() (${percent(ratio)}), ${left} left`,
      evidence: {
        ...destinationEvidence(destination),
        usable: ephemeral.usable,
        left,
        usedRatio: round(ratio, 3),
        connectionsPerSecond: rate,
        [PORT_RANGE]: range,
      },
      explanation: `connect() picks a local port so that (local address, local port, remote address, remote port) is unique, so the ports run out per destination. Toward ${describeDestination(destination)} ${left} more connect() calls succeed; after that connect() fails with EADDRNOTAVAIL (nginx logs "connect() failed (99: Cannot assign requested address)") and requests fail with 502. ${holding}`,
      stopTheBleeding: morePortsNow(context, sockets, ephemeral, [destination]),
      fix: upstreamFixes(upstreamOf(destination.remotePort, [destination])),
    });
  });
}

function listenerInEphemeralRange(context: Context): Finding[] {
  const sockets = needSockets(context);
  const range = context.second.sysctl?.portRange;
  if (range === undefined) throw unavailable(context.second, 'sysctl', PORT_RANGE);
  const reserved = context.second.sysctl?.reservedPorts ?? [];
  const exposed = unreservedListeners(sockets, reserved, range.low, range.high);
  if (exposed.length === 0) return [];
  const list = exposed.join(', ');
  return [
    finding('listener-in-ephemeral-range', 'warning', {
      summary: `listening port${exposed.length > 1 ? 's' : ''} ${list} inside ${PORT_RANGE} ${range.low}-${range.high}, not reserved`,
      evidence: {
        ports: exposed,
        [PORT_RANGE]: `${range.low} ${range.high}`,
        [RESERVED_PORTS]: reserved
          .map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`))
          .join(','),
      },
      explanation: `connect() may hand these port numbers to outgoing connections. While the service is down or restarting, a client can take its port, and the service then fails to bind (EADDRINUSE) until that connection is gone. Listening ports inside the range also leave fewer ports for clients. A port a program got by binding to port 0 belongs there and needs nothing.`,
      fix: [
        reservePortsFix(
          'Reserve the ports (the line keeps the ports already reserved)',
          reserved,
          exposed,
        ),
        { step: `Or move the service to a port below ${range.low}` },
      ],
    }),
  ];
}

const FEWER_TIME_WAIT: FixStep = {
  step: 'Create fewer TIME_WAIT sockets: keep connections open (HTTP keep-alive, nginx upstream keepalive, connection pools); see the findings per port',
};

function raiseTimeWaitLimit(limit: number | undefined): FixStep[] {
  if (limit === undefined || limit <= 0) return [];
  return [
    sysctlFix(
      'Raise the limit (it is per network namespace; a TIME_WAIT socket costs a few hundred bytes)',
      MAX_TW_BUCKETS,
      limit * 2,
    ),
  ];
}

const TIME_WAIT_FACTS =
  'TIME_WAIT lasts a fixed 60 s; tcp_fin_timeout does not shorten it (it bounds orphaned FIN_WAIT2 sockets), and tcp_tw_recycle, the old advice, was removed in Linux 4.12.';

/** Where the kernel reports destroyed TIME_WAIT: a counter, not the log, on any current kernel. */
const OVERFLOW_IS_COUNTED =
  'The kernel counts each in TcpExtTCPTimeWaitOverflow and logs nothing: only 2.6-era kernels printed "TCP: time wait bucket table overflow" (3.13 and later just count), so an empty kernel log proves nothing.';

function timeWaitNearBucketLimit(context: Context): Finding[] {
  const sockets = needSockets(context);
  const limit = needSysctl(context, MAX_TW_BUCKETS);
  if (limit <= 0) return [];
  const timeWait = timeWaitTotal(sockets);
  const ratio = timeWait / limit;
  if (ratio < TIME_WAIT_BUCKETS_WARNING_RATIO) return [];
  return [
    finding(
      'time-wait-near-bucket-limit',
      ratio >= TIME_WAIT_BUCKETS_CRITICAL_RATIO ? 'critical' : 'warning',
      {
        summary: `${timeWait} TIME_WAIT sockets, ${percent(ratio)} of ${MAX_TW_BUCKETS}=${limit}`,
        evidence: {
          timeWait,
          inboundTimeWait: sumTimeWait(sockets.listenPorts),
          outboundTimeWait: sumTimeWait(sockets.remotePorts),
          [MAX_TW_BUCKETS]: limit,
          ratio: round(ratio, 3),
        },
        explanation: `Past ${MAX_TW_BUCKETS} the kernel destroys new TIME_WAIT sockets at once, so late segments of an old connection can be taken for a new one. ${OVERFLOW_IS_COUNTED} ${TIME_WAIT_FACTS}`,
        stopTheBleeding: raiseTimeWaitLimit(limit),
        fix: [FEWER_TIME_WAIT],
      },
    ),
  ];
}

function timeWaitOverflow(context: Context): Finding[] {
  const change = needCounter(context, { group: 'tcpExt', field: 'TCPTimeWaitOverflow' });
  if (change.delta === 0) return [];
  const limit = context.sysctl[MAX_TW_BUCKETS];
  const timeWait = context.sockets === undefined ? undefined : timeWaitTotal(context.sockets);
  return [
    finding('time-wait-overflow', 'warning', {
      summary: `TCPTimeWaitOverflow rose by ${change.delta} in ${context.windowSeconds} s (${change.perSecond}/s)`,
      evidence: {
        ...counterEvidence(change),
        ...(timeWait !== undefined && { timeWait }),
        ...(limit !== undefined && { [MAX_TW_BUCKETS]: limit }),
      },
      explanation: `The TIME_WAIT table is full: the kernel destroyed ${change.delta} connections' TIME_WAIT at once instead of keeping it, so late segments of an old connection can be taken for a new one on the same ports. ${OVERFLOW_IS_COUNTED} ${TIME_WAIT_FACTS}`,
      stopTheBleeding: raiseTimeWaitLimit(limit),
      fix: [FEWER_TIME_WAIT],
    }),
  ];
}

/** Closing with a RST to skip TIME_WAIT: the shortcut people reach for, and what it costs. */
const SO_LINGER_ZERO =
  'Closing with SO_LINGER set to 0 to skip TIME_WAIT is no fix: close() then sends a RST, data still unsent or unacknowledged is lost, and the peer sees "connection reset by peer".';

function clientSideTimeWait(context: Context): Finding[] {
  const sockets = needSockets(context);
  const ephemeral = sockets.ephemeral;
  const activeOpens =
    context.windowSeconds > 0
      ? counterChange(context.first, context.second, context.windowSeconds, {
          group: 'tcp',
          field: 'ActiveOpens',
        })
      : undefined;
  return clientTimeWaitPorts(sockets).map(({ port, timeWait }) => {
    const destinations = destinationsToward(sockets, port);
    const upstream = upstreamOf(port, destinations);
    const rate = round(timeWait / TIME_WAIT_SECONDS, 1);
    // Reusable when every listed destination toward the port says so. A destination whose
    // TIME_WAIT is all reusable already blocks nothing and is not listed: with every blocking
    // destination listed and none toward the port, its TIME_WAIT blocks nothing.
    const everyBlockingListed =
      ephemeral !== undefined && ephemeral.destinations.length === ephemeral.destinationCount;
    const allReusable =
      ephemeral !== undefined &&
      destinations.every(reuseApplies) &&
      (destinations.length > 0 ||
        everyBlockingListed ||
        (ephemeral.reuse.twReuse === 1 && ephemeral.reuse.timestamps !== 0));
    const holdSeconds = allReusable
      ? (ephemeral as EphemeralPorts).reuse.twReuseDelayMs / 1000
      : TIME_WAIT_SECONDS;
    const ports =
      ephemeral === undefined
        ? ''
        : allReusable
          ? ` These TIME_WAIT sockets are reusable: ${reuseReason(ephemeral)}, so they do not make connect() fail with EADDRNOTAVAIL. What they still bound is the rate: about ${connectRate(ephemeral.usable, holdSeconds)} new connections per second per destination (usable ports / ${holdSeconds} s reuse delay), against ${connectRate(ephemeral.usable, TIME_WAIT_SECONDS)} without reuse (usable ports / 60 s).`
          : ` Each of them holds an ephemeral port toward its destination for those 60 s: about ${connectRate(ephemeral.usable, TIME_WAIT_SECONDS)} new connections per second per destination is the most ${ephemeral.usable} usable ports sustain.`;
    return finding('client-side-time-wait', allReusable ? 'info' : 'warning', {
      summary: `${timeWait} outbound TIME_WAIT sockets toward port ${port}: this host, the client, closes first${allReusable ? ` (reusable once ${holdSeconds} s old: they do not exhaust connect(), they bound its rate)` : ''}`,
      evidence: {
        remotePort: port,
        timeWait,
        threshold: clientTimeWaitThreshold(sockets),
        reusable: allReusable ? 'yes' : 'no',
        destinations: destinations.map(destinationEvidence),
        localBackend: upstream.local ? 'yes' : 'no',
        ...(ephemeral !== undefined && {
          connectionsPerSecondLimit: connectRate(ephemeral.usable, holdSeconds),
          connectionsPerSecondWithoutReuse: connectRate(ephemeral.usable, TIME_WAIT_SECONDS),
        }),
        ...(activeOpens?.perSecond !== undefined && {
          [`${activeOpens.name}.perSecond`]: activeOpens.perSecond,
        }),
      },
      explanation: `The side that closes a connection first keeps it in TIME_WAIT for a fixed 60 s. Here that is this host as the client: over the last minute, about ${rate} connections per second to port ${port} were opened and closed instead of reused.${ports} Keeping them open removes both the handshakes and the TIME_WAIT. ${SO_LINGER_ZERO}`,
      fix: upstreamFixes(upstream),
    });
  });
}

function twReuseOff(context: Context): Finding[] {
  const sockets = needSockets(context);
  const reuse = needSysctl(context, TW_REUSE);
  const timestamps = context.sysctl[TIMESTAMPS];
  const pressured = new Map<string, Destination>();
  const add = (destination: Destination) =>
    pressured.set(describeDestination(destination), destination);
  crowdedDestinations(sockets).forEach(add);
  for (const { port } of clientTimeWaitPorts(sockets))
    destinationsToward(sockets, port).forEach(add);
  // Only where reuse does not apply yet and TIME_WAIT is what blocks: elsewhere it changes nothing.
  const helped = [...pressured.values()].filter(twReuseWouldHelp);
  if (helped.length === 0) return [];
  const delay = context.sysctl[TW_REUSE_DELAY];
  const why =
    timestamps === 0
      ? `${TIMESTAMPS}=0, and reuse needs the TIME_WAIT connection to have carried timestamps`
      : `${TW_REUSE}=${reuse} (${reuse === 0 ? 'off' : 'loopback only'})`;
  return [
    finding('tw-reuse-off', 'info', {
      summary: `TIME_WAIT is not reusable toward ${helped.map(describeDestination).join(', ')}: ${why}`,
      evidence: {
        [TW_REUSE]: reuse,
        ...(timestamps !== undefined && { [TIMESTAMPS]: timestamps }),
        ...(delay !== undefined && { [TW_REUSE_DELAY]: delay }),
        destinations: helped.map(destinationEvidence),
      },
      explanation: `With ${TW_REUSE}=1, connect() may reuse a 4-tuple still in TIME_WAIT once that TIME_WAIT is older than ${delay === undefined ? '1 s' : `${TW_REUSE_DELAY} (${delay} ms)`}, for every destination; 0 is off and 2 (the default) covers loopback addresses only. It needs TCP timestamps (${TIMESTAMPS}=1), which let the peer reject segments of the old connection (PAWS). It only affects outgoing connections, never the accepting side. Keeping connections open is the better fix; this one raises how many connections per second a destination can take from usable ports / 60 s to usable ports / the reuse delay.`,
      fix: twReuseFixes(timestamps),
    }),
  ];
}

function timestampsOff(context: Context): Finding[] {
  const timestamps = needSysctl(context, TIMESTAMPS);
  if (timestamps !== 0) return [];
  return [
    finding('timestamps-off', 'warning', {
      summary: `${TIMESTAMPS}=0: TCP timestamps are off`,
      evidence: { [TIMESTAMPS]: 0 },
      explanation:
        'Without timestamps there is no PAWS protection against segments of an old connection, tcp_tw_reuse cannot reuse any TIME_WAIT port, and round-trip times are measured less well. Modern kernels randomise the timestamp offset per connection, so timestamps no longer reveal uptime.',
      fix: [sysctlFix('Turn timestamps on', TIMESTAMPS, 1)],
    }),
  ];
}

function closeWaitAccumulating(context: Context): Finding[] {
  const sockets = needSockets(context);
  const earlier = context.first.sockets;
  const rising = context.windowSeconds > 0;
  const found: Finding[] = [];
  const directions = [
    { direction: 'inbound', ports: sockets.listenPorts, before: earlier?.listenPorts },
    { direction: 'outbound', ports: sockets.remotePorts, before: earlier?.remotePorts },
  ] as const;
  for (const { direction, ports, before } of directions) {
    for (const entry of ports) {
      const { port } = entry;
      const closeWait = entry.states.close_wait;
      if (port === 'other' || closeWait < CLOSE_WAIT_WARNING) continue;
      const firstCount = before?.find((old) => old.port === port)?.states.close_wait ?? 0;
      // Present in both samples: not a moment between the peer's FIN and our close().
      if (rising && firstCount < CLOSE_WAIT_WARNING) continue;
      const inbound = direction === 'inbound';
      const filter = inbound ? `sport = :${port}` : `dport = :${port}`;
      found.push(
        finding(
          'close-wait-accumulating',
          closeWait >= CLOSE_WAIT_CRITICAL ? 'critical' : 'warning',
          {
            summary: `${closeWait} CLOSE_WAIT sockets ${inbound ? `on local port ${port} (inbound)` : `toward remote port ${port} (outbound)`}`,
            evidence: {
              direction,
              [inbound ? 'localPort' : 'remotePort']: port,
              closeWait,
              ...(rising && { closeWaitFirstSample: firstCount }),
            },
            explanation: `The peer closed these connections, but the ${inbound ? `program serving port ${port}` : `client connected to port ${port}`} has not called close(). The kernel never times CLOSE_WAIT out, so each holds a file descriptor until the program closes it or exits. This is an application bug: no sysctl fixes it.`,
            stopTheBleeding: [
              {
                step: 'Find the process holding them',
                lines: [`ss -tanp state close-wait '( ${filter} )'`],
              },
              { step: 'Restarting that process releases them until the bug is fixed' },
            ],
            fix: [
              {
                step: inbound
                  ? 'Fix the program to close the socket when a read returns end of file and on every error path'
                  : 'Fix the client to close connections the server has closed: a pool must check idle connections and close them on end of file',
              },
            ],
          },
        ),
      );
    }
  }
  return found;
}

function listenOverflows(context: Context): Finding[] {
  const overflows = needCounter(context, { group: 'tcpExt', field: 'ListenOverflows' });
  const drops = needCounter(context, { group: 'tcpExt', field: 'ListenDrops' });
  if (overflows.delta === 0 && drops.delta === 0) return [];
  const somaxconn = context.sysctl[SOMAXCONN];
  const synBacklog = context.sysctl[MAX_SYN_BACKLOG];
  const syncookies = context.sysctl[SYNCOOKIES];
  const synRecv = (context.sockets?.listenPorts ?? [])
    .filter((entry) => entry.port !== 'other' && entry.states.syn_recv > 0)
    .map((entry) => ({ port: entry.port, synRecv: entry.states.syn_recv }));
  const backlog = Math.max(4096, somaxconn ?? 0);
  const stop: FixStep[] = [
    {
      step: 'Find the listener whose accept queue is full: for LISTEN sockets Recv-Q is the queue and Send-Q its limit',
      lines: ['ss -ltn'],
    },
    {
      step: `Raise the backlog the program asks for, e.g. nginx (capped by ${SOMAXCONN})`,
      lines: [`listen 80 backlog=${backlog};`],
    },
  ];
  if (somaxconn !== undefined && somaxconn < backlog)
    stop.push(sysctlFix('Raise the kernel cap on every listen backlog', SOMAXCONN, backlog));
  const fix: FixStep[] = [
    {
      step: 'If the queue fills because the program accepts too slowly (busy workers), add workers or capacity: a longer queue only buys time',
    },
  ];
  if (syncookies === 0)
    fix.push(
      sysctlFix(
        'Turn SYN cookies on, so a full SYN queue does not drop connections',
        SYNCOOKIES,
        1,
      ),
    );
  return [
    finding('listen-overflows', 'warning', {
      summary: `ListenOverflows rose by ${overflows.delta} and ListenDrops by ${drops.delta} in ${context.windowSeconds} s`,
      evidence: {
        [`${overflows.name}.delta`]: overflows.delta,
        [`${overflows.name}.perSecond`]: overflows.perSecond,
        [`${drops.name}.delta`]: drops.delta,
        [`${drops.name}.perSecond`]: drops.perSecond,
        ...(somaxconn !== undefined && { [SOMAXCONN]: somaxconn }),
        ...(synBacklog !== undefined && { [MAX_SYN_BACKLOG]: synBacklog }),
        ...(syncookies !== undefined && { [SYNCOOKIES]: syncookies }),
        listenersWithSynRecv: synRecv,
      },
      explanation: `Connections were dropped at a listener: ListenOverflows counts handshakes completed while the accept queue was full, ListenDrops all drops at a listener (overflows included). The client sees a stall and retransmits its SYN or ACK, often 1 s or more of extra latency, or a timeout. The accept queue is min(the program's listen() backlog, ${SOMAXCONN}).`,
      stopTheBleeding: stop,
      fix,
    }),
  ];
}

function pawsRejects(context: Context): Finding[] {
  const active = needCounter(context, { group: 'tcpExt', field: 'PAWSActive' });
  const established = needCounter(context, { group: 'tcpExt', field: 'PAWSEstab' });
  // Newer kernels count rejects by TIME_WAIT sockets here instead of in PAWSEstab.
  const timewait = optionalCounter(context, { group: 'tcpExt', field: 'PAWSTimewait' });
  const total = active.delta + established.delta + (timewait?.delta ?? 0);
  if (total === 0) return [];
  const perSecond = round(total / context.windowSeconds, 2);
  const timestamps = context.sysctl[TIMESTAMPS];
  const counters = [active, established, ...(timewait === undefined ? [] : [timewait])];
  return [
    finding('paws-rejects', perSecond >= PAWS_WARNING_PER_SECOND ? 'warning' : 'info', {
      summary: `PAWS rejected ${total} segments in ${context.windowSeconds} s (${counters.map((change) => `${change.name.replace('TcpExt', '')} +${change.delta}`).join(', ')})`,
      evidence: {
        ...Object.fromEntries(counters.map((change) => [`${change.name}.delta`, change.delta])),
        perSecond,
        ...(timestamps !== undefined && { [TIMESTAMPS]: timestamps }),
      },
      explanation:
        'The kernel dropped segments whose TCP timestamp was older than one it had already seen from that peer (PAWSEstab: on established connections, PAWSActive: SYN-ACKs of outgoing connections, PAWSTimewait: segments to TIME_WAIT sockets). A steady stream means a peer whose timestamps go backwards: usually several hosts behind one NAT address, or a middlebox that rewrites timestamps. The classic cause, tcp_tw_recycle, was removed in Linux 4.12; on a current kernel look at the network path.',
      fix: [
        {
          step: 'Watch which counters rise',
          lines: ['nstat -az TcpExtPAWSActive TcpExtPAWSEstab TcpExtPAWSTimewait'],
        },
        {
          step: 'Find the peers: in a capture of their traffic the TSval option goes backwards; fix the NAT or middlebox in that path',
        },
        {
          step: 'Do not turn timestamps off to silence it: that removes PAWS protection and tcp_tw_reuse',
        },
      ],
    }),
  ];
}

const CHECKS: readonly (readonly [FindingId, Check])[] = [
  ['ephemeral-headroom-low', ephemeralHeadroomLow],
  ['bind-first-ports-low', bindFirstPortsLow],
  ['listener-in-ephemeral-range', listenerInEphemeralRange],
  ['time-wait-near-bucket-limit', timeWaitNearBucketLimit],
  ['time-wait-overflow', timeWaitOverflow],
  ['client-side-time-wait', clientSideTimeWait],
  ['tw-reuse-off', twReuseOff],
  ['timestamps-off', timestampsOff],
  ['close-wait-accumulating', closeWaitAccumulating],
  ['listen-overflows', listenOverflows],
  ['paws-rejects', pawsRejects],
  ['syn-queue-overflow', synQueueOverflow],
  ['orphans-near-limit', orphansNearLimit],
  ['tcp-memory-pressure', tcpMemoryPressure],
];

/**
 * Runs every check over two snapshots `windowSeconds` apart. With a window of 0 pass the
 * same snapshot twice: the counter checks are then skipped, the rest run on it.
 */
export function analyse(first: Snapshot, second: Snapshot, windowSeconds: number): Analysis {
  const context: Context = {
    first,
    second,
    windowSeconds,
    sockets: second.sockets,
    sysctl: second.sysctl?.values ?? {},
  };
  const findings: Finding[] = [];
  const skipped: SkippedCheck[] = [];
  for (const [id, check] of CHECKS) {
    try {
      findings.push(...check(context));
    } catch (error) {
      if (!(error instanceof Skip)) throw error;
      skipped.push({ id, reason: error.reason });
    }
  }
  return { findings: sortFindings(findings), skipped };
}
