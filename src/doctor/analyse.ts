/**
 * The checks: two snapshots a window apart → findings. Pure: no I/O, no clock. Each
 * check either returns its findings (often none) or says why it could not look.
 * Kernel facts behind the wording are in DESIGN.md ("Kernel facts").
 */
import type {
  Destination,
  PortStateCounts,
  Snapshot,
  SocketTables,
  SourceName,
} from '../snapshot/model.js';
import {
  isLoopback,
  reservePortsFix,
  sysctlFix,
  twReuseFixes,
  type Upstream,
  upstreamFixes,
} from './advice.js';
import { type CounterChange, type CounterRef, counterChange, round } from './counters.js';
import {
  type EvidenceValue,
  type Finding,
  type FindingId,
  type FixStep,
  type Severity,
  sortFindings,
} from './finding.js';
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

/** TIME_WAIT lasts TCP_TIMEWAIT_LEN, fixed at 60 s in the kernel. */
const TIME_WAIT_SECONDS = 60;

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

/** Thrown inside a check that cannot look; analyse() records it as skipped. */
class Skip extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface Context {
  readonly first: Snapshot;
  readonly second: Snapshot;
  readonly windowSeconds: number;
  /** Second sample's tables; the command never analyses a snapshot without them. */
  readonly sockets: SocketTables | undefined;
  readonly sysctl: Readonly<Record<string, number>>;
}

function unavailable(snapshot: Snapshot, source: SourceName, what: string): Skip {
  const error = snapshot.sources[source]?.error;
  return new Skip(error === undefined ? `${what} not read` : `${what} unreadable: ${error}`);
}

function needSockets(context: Context): SocketTables {
  if (context.sockets === undefined) throw unavailable(context.second, 'sockets', 'socket tables');
  return context.sockets;
}

function needSysctl(context: Context, name: string): number {
  if (context.second.sysctl === undefined) throw unavailable(context.second, 'sysctl', 'sysctls');
  const value = context.sysctl[name];
  if (value === undefined) throw new Skip(`${name} is not present on this kernel`);
  return value;
}

function needCounter(context: Context, counter: CounterRef): Required<CounterChange> {
  if (context.windowSeconds <= 0) throw new Skip('needs a window of more than 0 s');
  if (context.second.netstat === undefined || context.first.netstat === undefined)
    throw unavailable(context.second, 'netstat', 'kernel counters');
  const change = counterChange(context.first, context.second, context.windowSeconds, counter);
  if (change === undefined) throw new Skip(`this kernel has no ${counter.field} counter`);
  if (change.delta === undefined || change.perSecond === undefined)
    throw new Skip(`${change.name} went backwards during the window`);
  return { ...change, delta: change.delta, perSecond: change.perSecond };
}

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
  };
}

function percent(ratio: number): string {
  return `${round(ratio * 100, 1)}%`;
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

/** Top destinations holding a large share of the usable ports, worst first. */
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

function finding(
  id: FindingId,
  severity: Severity,
  summary: string,
  evidence: Record<string, EvidenceValue>,
  explanation: string,
  fix: FixStep[],
): Finding {
  return { id, severity, summary, evidence, explanation, fix };
}

function ephemeralHeadroomLow(context: Context): Finding[] {
  const sockets = needSockets(context);
  const ephemeral = sockets.ephemeral;
  if (ephemeral === undefined)
    throw new Skip(`ephemeral ports unknown: ${sockets.ephemeralError ?? 'no port range'}`);
  const range = portRangeText(context);
  const reuse = context.sysctl[TW_REUSE];
  const fixesAfterKeepalive = (): FixStep[] => {
    const steps: FixStep[] = [
      {
        step: 'Spread connections over more destination ports or addresses, or give this host more source addresses: each (source address, destination address, destination port) has its own set of ephemeral ports',
      },
    ];
    if (ephemeral.rangeLow > WIDE_PORT_RANGE.low || ephemeral.rangeHigh < WIDE_PORT_RANGE.high) {
      const low = Math.min(ephemeral.rangeLow, WIDE_PORT_RANGE.low);
      steps.push(
        sysctlFix('Widen the ephemeral port range', PORT_RANGE, `${low} ${WIDE_PORT_RANGE.high}`),
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
    if (reuse !== 1) steps.push(...twReuseFixes(context.sysctl[TIMESTAMPS]));
    return steps;
  };

  if (ephemeral.usable === 0) {
    return [
      finding(
        'ephemeral-headroom-low',
        'critical',
        `no usable ephemeral ports: ${PORT_RANGE} ${range} is all reserved or listening`,
        { usable: 0, [PORT_RANGE]: range },
        'connect() without bind() has no local port to pick and fails with EADDRNOTAVAIL ("Cannot assign requested address").',
        fixesAfterKeepalive(),
      ),
    ];
  }
  return crowdedDestinations(sockets).map((destination) => {
    const ratio = destination.used / ephemeral.usable;
    const severity = ratio >= EPHEMERAL_USE_CRITICAL_RATIO ? 'critical' : 'warning';
    const sustainable = round(ephemeral.usable / TIME_WAIT_SECONDS, 1);
    return finding(
      'ephemeral-headroom-low',
      severity,
      `${describeDestination(destination)} holds ${destination.used} of ${ephemeral.usable} usable ephemeral ports (${percent(ratio)})`,
      {
        ...destinationEvidence(destination),
        usable: ephemeral.usable,
        usedRatio: round(ratio, 3),
        [PORT_RANGE]: range,
      },
      `connect() picks a local port so that (local address, local port, remote address, remote port) is unique, so the ports run out per destination. Toward ${describeDestination(destination)} only ${ephemeral.usable - destination.used} are left. When none are, connect() fails with EADDRNOTAVAIL (nginx logs "connect() failed (99: Cannot assign requested address)") and requests fail with 502. Each connection this host closes first keeps its port in TIME_WAIT for a fixed 60 s, so one destination sustains about ${sustainable} new connections per second.`,
      [
        ...upstreamFixes(upstreamOf(destination.remotePort, [destination])),
        ...fixesAfterKeepalive(),
      ],
    );
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
    finding(
      'listener-in-ephemeral-range',
      'warning',
      `listening port${exposed.length > 1 ? 's' : ''} ${list} inside ${PORT_RANGE} ${range.low}-${range.high}, not reserved`,
      {
        ports: exposed,
        [PORT_RANGE]: `${range.low} ${range.high}`,
        [RESERVED_PORTS]: reserved
          .map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`))
          .join(','),
      },
      `connect() may hand these port numbers to outgoing connections. While the service is down or restarting, a client can take its port, and the service then fails to bind (EADDRINUSE) until that connection is gone. Listening ports inside the range also leave fewer ports for clients. A port a program got by binding to port 0 belongs there and needs nothing.`,
      [
        reservePortsFix(
          'Reserve the ports (the line keeps the ports already reserved)',
          reserved,
          exposed,
        ),
        { step: `Or move the service to a port below ${range.low}` },
      ],
    ),
  ];
}

function timeWaitLimitFixes(limit: number | undefined): FixStep[] {
  const steps: FixStep[] = [
    {
      step: 'Create fewer TIME_WAIT sockets: keep connections open (HTTP keep-alive, nginx upstream keepalive, connection pools); see the findings per port',
    },
  ];
  if (limit !== undefined && limit > 0)
    steps.push(
      sysctlFix(
        'Raise the limit (it is per network namespace; a TIME_WAIT socket costs a few hundred bytes)',
        MAX_TW_BUCKETS,
        limit * 2,
      ),
    );
  return steps;
}

const TIME_WAIT_FACTS =
  'TIME_WAIT lasts a fixed 60 s; tcp_fin_timeout does not shorten it (it bounds orphaned FIN_WAIT2 sockets), and tcp_tw_recycle, the old advice, was removed in Linux 4.12.';

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
      `${timeWait} TIME_WAIT sockets, ${percent(ratio)} of ${MAX_TW_BUCKETS}=${limit}`,
      {
        timeWait,
        inboundTimeWait: sumTimeWait(sockets.listenPorts),
        outboundTimeWait: sumTimeWait(sockets.remotePorts),
        [MAX_TW_BUCKETS]: limit,
        ratio: round(ratio, 3),
      },
      `Past ${MAX_TW_BUCKETS} the kernel destroys new TIME_WAIT sockets at once (TCPTimeWaitOverflow, "time wait bucket table overflow" in the kernel log), so late segments of an old connection can be taken for a new one. ${TIME_WAIT_FACTS}`,
      timeWaitLimitFixes(limit),
    ),
  ];
}

function timeWaitOverflow(context: Context): Finding[] {
  const change = needCounter(context, { group: 'tcpExt', field: 'TCPTimeWaitOverflow' });
  if (change.delta === 0) return [];
  const limit = context.sysctl[MAX_TW_BUCKETS];
  const timeWait = context.sockets === undefined ? undefined : timeWaitTotal(context.sockets);
  return [
    finding(
      'time-wait-overflow',
      'warning',
      `TCPTimeWaitOverflow rose by ${change.delta} in ${context.windowSeconds} s (${change.perSecond}/s)`,
      {
        [`${change.name}.delta`]: change.delta,
        [`${change.name}.perSecond`]: change.perSecond,
        [`${change.name}.total`]: change.total,
        ...(timeWait !== undefined && { timeWait }),
        ...(limit !== undefined && { [MAX_TW_BUCKETS]: limit }),
      },
      `The TIME_WAIT table is full: the kernel destroyed ${change.delta} connections' TIME_WAIT at once instead of keeping it, so late segments of an old connection can be taken for a new one on the same ports. ${TIME_WAIT_FACTS}`,
      timeWaitLimitFixes(limit),
    ),
  ];
}

function clientSideTimeWait(context: Context): Finding[] {
  const sockets = needSockets(context);
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
    return finding(
      'client-side-time-wait',
      'warning',
      `${timeWait} outbound TIME_WAIT sockets toward port ${port}: this host, the client, closes first`,
      {
        remotePort: port,
        timeWait,
        threshold: clientTimeWaitThreshold(sockets),
        destinations: destinations.map(destinationEvidence),
        localBackend: upstream.local ? 'yes' : 'no',
        ...(activeOpens?.perSecond !== undefined && {
          [`${activeOpens.name}.perSecond`]: activeOpens.perSecond,
        }),
      },
      `The side that closes a connection first keeps it in TIME_WAIT for a fixed 60 s. Here that is this host as the client, so each of these sockets also holds an ephemeral port toward its destination: over the last minute, about ${rate} connections per second to port ${port} were opened and closed instead of reused. Keeping them open removes both the handshakes and the TIME_WAIT.`,
      upstreamFixes(upstream),
    );
  });
}

function twReuseOff(context: Context): Finding[] {
  const sockets = needSockets(context);
  const reuse = needSysctl(context, TW_REUSE);
  if (reuse === 1) return [];
  const pressured = new Map<string, Destination>();
  const add = (destination: Destination) =>
    pressured.set(describeDestination(destination), destination);
  crowdedDestinations(sockets).forEach(add);
  for (const { port } of clientTimeWaitPorts(sockets))
    destinationsToward(sockets, port).forEach(add);
  // tcp_tw_reuse=2 already covers a loopback source or destination address.
  const outsideReuse = [...pressured.values()].filter(
    (destination) =>
      reuse === 0 ||
      !(isLoopback(destination.localAddress) || isLoopback(destination.remoteAddress)),
  );
  if (outsideReuse.length === 0) return [];
  const timestamps = context.sysctl[TIMESTAMPS];
  const delay = context.sysctl[TW_REUSE_DELAY];
  return [
    finding(
      'tw-reuse-off',
      'info',
      `${TW_REUSE}=${reuse} (${reuse === 0 ? 'off' : 'loopback only'}) while outbound TIME_WAIT builds up toward ${outsideReuse.map(describeDestination).join(', ')}`,
      {
        [TW_REUSE]: reuse,
        ...(timestamps !== undefined && { [TIMESTAMPS]: timestamps }),
        ...(delay !== undefined && { [TW_REUSE_DELAY]: delay }),
        destinations: outsideReuse.map(destinationEvidence),
      },
      `With ${TW_REUSE}=1, connect() may reuse a 4-tuple still in TIME_WAIT once that TIME_WAIT is older than ${delay === undefined ? '1 s' : `${TW_REUSE_DELAY} (${delay} ms)`}, for every destination; 0 is off and 2 (the default) covers loopback addresses only. It needs TCP timestamps (${TIMESTAMPS}=1), which let the peer reject segments of the old connection (PAWS). It only affects outgoing connections, never the accepting side. Keeping connections open is the better fix; this one raises how many connections per second a destination can take.`,
      twReuseFixes(timestamps),
    ),
  ];
}

function timestampsOff(context: Context): Finding[] {
  const timestamps = needSysctl(context, TIMESTAMPS);
  if (timestamps !== 0) return [];
  return [
    finding(
      'timestamps-off',
      'warning',
      `${TIMESTAMPS}=0: TCP timestamps are off`,
      { [TIMESTAMPS]: 0 },
      'Without timestamps there is no PAWS protection against segments of an old connection, tcp_tw_reuse cannot reuse any TIME_WAIT port, and round-trip times are measured less well. Modern kernels randomise the timestamp offset per connection, so timestamps no longer reveal uptime.',
      [sysctlFix('Turn timestamps on', TIMESTAMPS, 1)],
    ),
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
          `${closeWait} CLOSE_WAIT sockets ${inbound ? `on local port ${port} (inbound)` : `toward remote port ${port} (outbound)`}`,
          {
            direction,
            [inbound ? 'localPort' : 'remotePort']: port,
            closeWait,
            ...(rising && { closeWaitFirstSample: firstCount }),
          },
          `The peer closed these connections, but the ${inbound ? `program serving port ${port}` : `client connected to port ${port}`} has not called close(). The kernel never times CLOSE_WAIT out, so each holds a file descriptor until the program closes it or exits. This is an application bug: no sysctl fixes it.`,
          [
            {
              step: 'Find the process holding them',
              lines: [`ss -tanp state close-wait '( ${filter} )'`],
            },
            {
              step: inbound
                ? 'Fix the program to close the socket when a read returns end of file and on every error path'
                : 'Fix the client to close connections the server has closed: a pool must check idle connections and close them on end of file',
            },
            { step: 'Restarting the process releases them until the bug is fixed' },
          ],
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
  const fix: FixStep[] = [
    {
      step: 'Find the listener whose accept queue is full: for LISTEN sockets Recv-Q is the queue and Send-Q its limit',
      lines: ['ss -ltn'],
    },
    {
      step: 'If the queue fills because the program accepts too slowly (busy workers), add workers or capacity: a longer queue only buys time',
    },
    {
      step: `Raise the backlog the program asks for, e.g. nginx (capped by ${SOMAXCONN})`,
      lines: [`listen 80 backlog=${backlog};`],
    },
  ];
  if (somaxconn !== undefined && somaxconn < backlog)
    fix.push(sysctlFix('Raise the kernel cap on every listen backlog', SOMAXCONN, backlog));
  if (syncookies === 0)
    fix.push(
      sysctlFix(
        'Turn SYN cookies on, so a full SYN queue does not drop connections',
        SYNCOOKIES,
        1,
      ),
    );
  return [
    finding(
      'listen-overflows',
      'warning',
      `ListenOverflows rose by ${overflows.delta} and ListenDrops by ${drops.delta} in ${context.windowSeconds} s`,
      {
        [`${overflows.name}.delta`]: overflows.delta,
        [`${overflows.name}.perSecond`]: overflows.perSecond,
        [`${drops.name}.delta`]: drops.delta,
        [`${drops.name}.perSecond`]: drops.perSecond,
        ...(somaxconn !== undefined && { [SOMAXCONN]: somaxconn }),
        ...(synBacklog !== undefined && { [MAX_SYN_BACKLOG]: synBacklog }),
        ...(syncookies !== undefined && { [SYNCOOKIES]: syncookies }),
        listenersWithSynRecv: synRecv,
      },
      `Connections were dropped at a listener: ListenOverflows counts handshakes completed while the accept queue was full, ListenDrops all drops at a listener (overflows included). The client sees a stall and retransmits its SYN or ACK, often 1 s or more of extra latency, or a timeout. The accept queue is min(the program's listen() backlog, ${SOMAXCONN}).`,
      fix,
    ),
  ];
}

function pawsRejects(context: Context): Finding[] {
  const active = needCounter(context, { group: 'tcpExt', field: 'PAWSActive' });
  const established = needCounter(context, { group: 'tcpExt', field: 'PAWSEstab' });
  const total = active.delta + established.delta;
  if (total === 0) return [];
  const perSecond = round(total / context.windowSeconds, 2);
  const timestamps = context.sysctl[TIMESTAMPS];
  return [
    finding(
      'paws-rejects',
      perSecond >= PAWS_WARNING_PER_SECOND ? 'warning' : 'info',
      `PAWS rejected ${total} segments in ${context.windowSeconds} s (PAWSActive +${active.delta}, PAWSEstab +${established.delta})`,
      {
        [`${active.name}.delta`]: active.delta,
        [`${established.name}.delta`]: established.delta,
        perSecond,
        ...(timestamps !== undefined && { [TIMESTAMPS]: timestamps }),
      },
      'The kernel dropped segments whose TCP timestamp was older than one it had already seen from that peer (PAWSEstab: on established connections, PAWSActive: SYN-ACKs of outgoing connections). A steady stream means a peer whose timestamps go backwards: usually several hosts behind one NAT address, or a middlebox that rewrites timestamps. The classic cause, tcp_tw_recycle, was removed in Linux 4.12; on a current kernel look at the network path.',
      [
        {
          step: 'Watch which counters rise',
          lines: ['nstat -az TcpExtPAWSActive TcpExtPAWSEstab'],
        },
        {
          step: 'Find the peers: in a capture of their traffic the TSval option goes backwards; fix the NAT or middlebox in that path',
        },
        {
          step: 'Do not turn timestamps off to silence it: that removes PAWS protection and tcp_tw_reuse',
        },
      ],
    ),
  ];
}

const CHECKS: readonly (readonly [FindingId, (context: Context) => Finding[]])[] = [
  ['ephemeral-headroom-low', ephemeralHeadroomLow],
  ['listener-in-ephemeral-range', listenerInEphemeralRange],
  ['time-wait-near-bucket-limit', timeWaitNearBucketLimit],
  ['time-wait-overflow', timeWaitOverflow],
  ['client-side-time-wait', clientSideTimeWait],
  ['tw-reuse-off', twReuseOff],
  ['timestamps-off', timestampsOff],
  ['close-wait-accumulating', closeWaitAccumulating],
  ['listen-overflows', listenOverflows],
  ['paws-rejects', pawsRejects],
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
