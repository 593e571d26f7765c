/**
 * Writes a procfs tree (the files the engine reads under a procfs root) from a declarative
 * description of sockets, sysctls and counters, in the kernel's formats: socket lines come
 * from kernel-format.ts, net/netstat and net/snmp as header/value line pairs with the 6.x
 * field sets, sockstat derived from the sockets. Anything not described gets what a
 * default Linux 6.x namespace shows.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TCP_STATES, type TcpState } from '../../src/snapshot/model.js';
import { type ConntrackFlow, formatConntrackLine } from './conntrack-format.js';
import { formatTable, formatUdpTable, type KernelSocket } from './kernel-format.js';

export interface ProcfsSocketSpec {
  readonly state: TcpState;
  /** `127.0.0.1:9000`, `[::1]:9000` or `[::ffff:127.0.0.1]:9000`; brackets put it in tcp6. */
  readonly local: string;
  /** Defaults to the any address and port 0, as a listener prints. */
  readonly remote?: string;
  /** Writes this many sockets, the port named by `vary` increasing by one each time. */
  readonly count?: number;
  /** Which port counts up: `local` for a client's ephemeral ports (default), `remote` for a server's peers. */
  readonly vary?: 'local' | 'remote';
}

export interface ProcfsTreeSpec {
  readonly sockets?: readonly ProcfsSocketSpec[];
  /**
   * Dotted sysctl name → value written to sys/…; `null` leaves the file out (a kernel that
   * lacks it). Unlisted sysctls the engine reads get their Linux defaults.
   * `net.ipv4.ip_local_port_range` and `net.ipv4.tcp_mem` may be given as `"20000 20999"`:
   * written tab-separated. The host-wide `tcp_mem` and `tcp_max_orphans` are not written unless
   * given: /proc/sys shows them only in the host's network namespace.
   */
  readonly sysctls?: Readonly<Record<string, number | string | null>>;
  /** `TcpExt:` fields of net/netstat; `null` removes a field (an older kernel). */
  readonly netstat?: Readonly<Record<string, number | null>>;
  /** `Tcp:` fields of net/snmp; `null` removes a field. */
  readonly snmp?: Readonly<Record<string, number | null>>;
  /** Overrides of the `TCP:` line of net/sockstat (otherwise derived from the sockets). */
  readonly sockstat?: Readonly<Record<string, number>>;
  /** Overrides of the `TCP6:` line of net/sockstat6. */
  readonly sockstat6?: Readonly<Record<string, number>>;
  /**
   * Entries of net/stat/nf_conntrack (repeated on each of 2 CPU rows, as the kernel does);
   * absent: no conntrack. Its limit is the sysctl `net.netfilter.nf_conntrack_max`.
   */
  readonly conntrackEntries?: number;
  /** Flows of net/nf_conntrack, each `count` times with the NAT port counting up; absent: no file. */
  readonly conntrackFlows?: readonly { readonly flow: ConntrackFlow; readonly count?: number }[];
  /**
   * UDP sockets for net/udp and net/udp6 (brackets put one in udp6): unconnected (state 07)
   * without a remote, connected (01) with one. Absent: neither file is written.
   */
  readonly udp?: readonly { readonly local: string; readonly remote?: string }[];
  /** Paths relative to the root not to write, e.g. `net/tcp6` for a host without IPv6. */
  readonly omit?: readonly string[];
}

/** The sysctls the engine reads, with what a default Linux 6.x namespace shows. */
export const DEFAULT_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_local_port_range': '32768 60999',
  'net.ipv4.ip_local_reserved_ports': '',
  'net.ipv4.tcp_tw_reuse': '2',
  'net.ipv4.tcp_tw_reuse_delay': '1000',
  'net.ipv4.tcp_max_tw_buckets': '131072',
  'net.ipv4.tcp_fin_timeout': '60',
  'net.ipv4.tcp_timestamps': '1',
  'net.ipv4.tcp_syncookies': '1',
  'net.ipv4.tcp_max_syn_backlog': '2048',
  'net.core.somaxconn': '4096',
};

/** TcpExt field names in kernel order (6.x); fixtures may add or remove fields. */
const TCP_EXT_FIELDS =
  `SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned
OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive PAWSEstab
BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait DelayedACKs DelayedACKLocked DelayedACKLost
ListenOverflows ListenDrops TCPHPHits TCPPureAcks TCPHPAcks TCPRenoRecovery TCPSackRecovery
TCPSACKReneging TCPSACKReorder TCPRenoReorder TCPTSReorder TCPFullUndo TCPPartialUndo TCPDSACKUndo
TCPLossUndo TCPLostRetransmit TCPRenoFailures TCPSackFailures TCPLossFailures TCPFastRetrans
TCPSlowStartRetrans TCPTimeouts TCPLossProbes TCPLossProbeRecovery TCPRenoRecoveryFail
TCPSackRecoveryFail TCPRcvCollapsed TCPBacklogCoalesce TCPDSACKOldSent TCPDSACKOfoSent TCPDSACKRecv
TCPDSACKOfoRecv TCPAbortOnData TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger
TCPAbortFailed TCPMemoryPressures TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld
TCPDSACKIgnoredNoUndo TCPSpuriousRTOs TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPSackShifted
TCPSackMerged TCPSackShiftFallback TCPBacklogDrop PFMemallocDrop TCPMinTTLDrop TCPDeferAcceptDrop
IPReversePathFilter TCPTimeWaitOverflow TCPReqQFullDoCookies TCPReqQFullDrop TCPRetransFail
TCPRcvCoalesce TCPOFOQueue TCPOFODrop TCPOFOMerge TCPChallengeACK TCPSYNChallenge
TCPFastOpenActive TCPFastOpenActiveFail TCPFastOpenPassive TCPFastOpenPassiveFail
TCPFastOpenListenOverflow TCPFastOpenCookieReqd TCPFastOpenBlackhole TCPSpuriousRtxHostQueues
BusyPollRxPackets TCPAutoCorking TCPFromZeroWindowAdv TCPToZeroWindowAdv TCPWantZeroWindowAdv
TCPSynRetrans TCPOrigDataSent TCPHystartTrainDetect TCPHystartTrainCwnd TCPHystartDelayDetect
TCPHystartDelayCwnd TCPACKSkippedSynRecv TCPACKSkippedPAWS TCPACKSkippedSeq TCPACKSkippedFinWait2
TCPACKSkippedTimeWait TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive TCPMTUPFail TCPMTUPSuccess
TCPDelivered TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop TCPRcvQDrop TCPWqueueTooBig
TCPFastOpenPassiveAltKey TcpTimeoutRehash TcpDuplicateDataRehash TCPDSACKRecvSegs
TCPDSACKIgnoredDubious TCPMigrateReqSuccess TCPMigrateReqFailure TCPPLBRehash TCPAORequired
TCPAOBad TCPAOKeyNotFound TCPAOGood TCPAODroppedIcmps`.split(/\s+/);

const IP_EXT_FIELDS = `InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts
InOctets OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors
InNoECTPkts InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps`.split(/\s+/);

const TCP_SNMP_DEFAULTS: Readonly<Record<string, number>> = {
  RtoAlgorithm: 1,
  RtoMin: 200,
  RtoMax: 120000,
  MaxConn: -1,
  ActiveOpens: 0,
  PassiveOpens: 0,
  AttemptFails: 0,
  EstabResets: 0,
  CurrEstab: 0,
  InSegs: 0,
  OutSegs: 0,
  RetransSegs: 0,
  InErrs: 0,
  OutRsts: 0,
  InCsumErrors: 0,
};

const IP_SNMP_FIELDS = `Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams
InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds
ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits`.split(/\s+/);
const UDP_SNMP_FIELDS = `InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors
InCsumErrors IgnoredMulti MemErrors`.split(/\s+/);

interface Endpoint {
  readonly bytes: Uint8Array;
  readonly port: number;
  readonly ipv6: boolean;
}

function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255))
    throw new Error(`bad IPv4 address ${text}`);
  return Uint8Array.from(parts);
}

function parseIpv6(text: string): Uint8Array {
  // A trailing dotted quad (`::ffff:127.0.0.1`) is two groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  let body = text;
  if (last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = parseIpv4(last);
    body = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = body.split('::');
  const groups = (half: string | undefined) =>
    half === undefined || half === ''
      ? []
      : half.split(':').map((group) => Number.parseInt(group, 16));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all =
    halves.length === 2
      ? [...head, ...new Array<number>(Math.max(0, 8 - head.length - tail.length)).fill(0), ...tail]
      : head;
  if (
    halves.length > 2 ||
    all.length !== 8 ||
    all.some((group) => !(group >= 0 && group <= 0xffff))
  )
    throw new Error(`bad IPv6 address ${text}`);
  const bytes = new Uint8Array(16);
  all.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function parseEndpoint(text: string): Endpoint {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (match === null) throw new Error(`bad endpoint ${text}: use 1.2.3.4:80 or [::1]:80`);
  const port = Number(match[3]);
  if (port > 65_535) throw new Error(`bad port in ${text}`);
  if (match[1] !== undefined) return { bytes: parseIpv6(match[1]), port, ipv6: true };
  return { bytes: parseIpv4(match[2] ?? ''), port, ipv6: false };
}

interface ExpandedSocket {
  readonly state: TcpState;
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

function expand(spec: ProcfsSocketSpec): ExpandedSocket[] {
  const local = parseEndpoint(spec.local);
  const remote =
    spec.remote === undefined
      ? { bytes: new Uint8Array(local.ipv6 ? 16 : 4), port: 0, ipv6: local.ipv6 }
      : parseEndpoint(spec.remote);
  if (remote.ipv6 !== local.ipv6) throw new Error(`mixed families: ${spec.local} ${spec.remote}`);
  const count = spec.count ?? 1;
  const sockets: ExpandedSocket[] = [];
  for (let index = 0; index < count; index++) {
    const varyLocal = spec.vary !== 'remote';
    sockets.push({
      state: spec.state,
      local: varyLocal ? { ...local, port: local.port + index } : local,
      remote: varyLocal ? remote : { ...remote, port: remote.port + index },
    });
  }
  return sockets;
}

/** The table file, listeners first: the kernel walks the listening hash before the established one. */
function socketTable(sockets: readonly ExpandedSocket[], family: 'ipv4' | 'ipv6'): string {
  const listening = sockets.filter((socket) => socket.state === 'listen');
  const others = sockets.filter((socket) => socket.state !== 'listen');
  return formatTable(
    family,
    [...listening, ...others].map((socket, index) => kernelSocket(socket, 10_000 + index)),
  );
}

function kernelSocket(socket: ExpandedSocket, inode: number): KernelSocket {
  return {
    local: [...socket.local.bytes],
    localPort: socket.local.port,
    remote: [...socket.remote.bytes],
    remotePort: socket.remote.port,
    state: TCP_STATES.indexOf(socket.state) + 1,
    inode,
  };
}

/** A `Name: fields` / `Name: values` pair of lines as in net/netstat and net/snmp. */
function counterLines(
  name: string,
  fields: readonly string[],
  defaults: Readonly<Record<string, number>>,
  overrides: Readonly<Record<string, number | null>> = {},
): string {
  const names = [...fields, ...Object.keys(overrides).filter((field) => !fields.includes(field))];
  const kept = names.filter((field) => overrides[field] !== null);
  const values = kept.map((field) => overrides[field] ?? defaults[field] ?? 0);
  return `${name}: ${kept.join(' ')}\n${name}: ${values.join(' ')}\n`;
}

function sysctlPath(name: string): string {
  return join('sys', ...name.split('.'));
}

/** Sysctls the kernel prints as tab-separated numbers. */
const TAB_SEPARATED_SYSCTLS = new Set(['net.ipv4.ip_local_port_range', 'net.ipv4.tcp_mem']);

function sysctlText(name: string, value: number | string): string {
  const text = String(value);
  return TAB_SEPARATED_SYSCTLS.has(name) ? text.trim().split(/\s+/).join('\t') : text;
}

/**
 * Writes the tree into `root` (created if missing; files of an earlier tree there are
 * replaced). `root` is what `--path.procfs` points at: it gets net/ and sys/.
 */
function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

export function writeProcfsTree(root: string, spec: ProcfsTreeSpec = {}): void {
  const sockets = (spec.sockets ?? []).flatMap(expand);
  const v4 = sockets.filter((socket) => !socket.local.ipv6);
  const v6 = sockets.filter((socket) => socket.local.ipv6);
  const count = (list: readonly ExpandedSocket[], ...states: TcpState[]) =>
    list.filter((socket) => states.includes(socket.state)).length;
  // Full sockets only: TIME_WAIT and request sockets are not counted in inuse.
  const inuse4 = v4.length - count(v4, 'time_wait', 'syn_recv');
  const inuse6 = v6.length - count(v6, 'time_wait', 'syn_recv');

  const sockstatTcp: Record<string, number> = {
    inuse: inuse4,
    orphan: 0,
    tw: count(sockets, 'time_wait'),
    alloc: inuse4 + inuse6,
    mem: Math.ceil((inuse4 + inuse6) / 4),
    ...spec.sockstat,
  };
  const sockstat6Tcp: Record<string, number> = { inuse: inuse6, ...spec.sockstat6 };
  const fields = (record: Readonly<Record<string, number>>) =>
    Object.entries(record)
      .map(([key, value]) => `${key} ${value}`)
      .join(' ');

  const files: Record<string, string> = {
    'net/tcp': socketTable(v4, 'ipv4'),
    'net/tcp6': socketTable(v6, 'ipv6'),
    'net/sockstat': `sockets: used ${inuse4 + inuse6 + 5}\nTCP: ${fields(sockstatTcp)}\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n`,
    'net/sockstat6': `TCP6: ${fields(sockstat6Tcp)}\nUDP6: inuse 0\nUDPLITE6: inuse 0\nRAW6: inuse 0\nFRAG6: inuse 0 memory 0\n`,
    'net/netstat':
      counterLines('TcpExt', TCP_EXT_FIELDS, {}, spec.netstat) +
      counterLines('IpExt', IP_EXT_FIELDS, {}),
    'net/snmp':
      counterLines('Ip', IP_SNMP_FIELDS, { Forwarding: 1, DefaultTTL: 64 }) +
      counterLines(
        'Tcp',
        Object.keys(TCP_SNMP_DEFAULTS),
        // The kernel's CurrEstab counts ESTABLISHED and CLOSE_WAIT sockets.
        { ...TCP_SNMP_DEFAULTS, CurrEstab: count(sockets, 'established', 'close_wait') },
        spec.snmp,
      ) +
      counterLines('Udp', UDP_SNMP_FIELDS, {}),
  };
  if (spec.udp !== undefined) {
    const udp = spec.udp.flatMap((socket) =>
      expand({ state: socket.remote === undefined ? 'close' : 'established', ...socket }),
    );
    for (const [file, family, ipv6] of [
      ['net/udp', 'ipv4', false],
      ['net/udp6', 'ipv6', true],
    ] as const) {
      files[file] = formatUdpTable(
        family,
        udp
          .filter((socket) => socket.local.ipv6 === ipv6)
          .map((socket, index) => kernelSocket(socket, 20_000 + index)),
      );
    }
  }
  if (spec.conntrackEntries !== undefined) {
    const row = [spec.conntrackEntries, 0, 0, 0].map((value) => hex8(value)).join(' ');
    files['net/stat/nf_conntrack'] = `entries insert_failed drop early_drop\n${row}\n${row}\n`;
  }
  if (spec.conntrackFlows !== undefined) {
    files['net/nf_conntrack'] = spec.conntrackFlows
      .flatMap(({ flow, count = 1 }) =>
        Array.from({ length: count }, (_, i) =>
          formatConntrackLine({
            ...flow,
            original: { ...flow.original, sport: flow.original.sport + i },
            reply: { ...flow.reply, dport: flow.reply.dport + i },
          }),
        ),
      )
      .join('');
  }
  const sysctls = { ...DEFAULT_SYSCTLS, ...spec.sysctls };
  for (const [name, value] of Object.entries(sysctls)) {
    if (value !== null) files[sysctlPath(name)] = `${sysctlText(name, value)}\n`;
  }
  for (const [name, value] of Object.entries(sysctls)) {
    if (value === null) rmSync(join(root, sysctlPath(name)), { force: true });
  }
  for (const path of spec.omit ?? []) {
    delete files[path];
    rmSync(join(root, path), { force: true, recursive: true });
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}
