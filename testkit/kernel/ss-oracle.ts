/**
 * Independent oracle for the engine: parses `ss -tanH` (netlink, not /proc) and computes
 * the same aggregates the snapshot carries, the slow and obvious way.
 */
import {
  emptyStateCounts,
  type Family,
  type StateCounts,
  TCP_STATES,
  type TcpState,
} from '../../src/snapshot/model.js';
import type { NetnsLab } from './netns.js';

const SS_STATE_NAMES: Readonly<Record<string, TcpState>> = {
  ESTAB: 'established',
  'SYN-SENT': 'syn_sent',
  'SYN-RECV': 'syn_recv',
  'FIN-WAIT-1': 'fin_wait1',
  'FIN-WAIT-2': 'fin_wait2',
  'TIME-WAIT': 'time_wait',
  // ss names the kernel's TCP_CLOSE "UNCONN".
  CLOSE: 'close',
  UNCONN: 'close',
  'CLOSE-WAIT': 'close_wait',
  'LAST-ACK': 'last_ack',
  LISTEN: 'listen',
  CLOSING: 'closing',
};

export interface SsSocket {
  readonly state: TcpState;
  /** Which kernel table: ss prints tcp6 sockets bracketed (or `*` for a dual-stack wildcard). */
  readonly family: Family;
  /** Normalised: IPv6 canonical, IPv4-mapped folded to dotted IPv4. */
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  /** 0 for a listener's `*`. */
  readonly remotePort: number;
}

/** Runs `ss -tanH` inside the namespace. */
export function ssInNamespace(lab: NetnsLab, ns: string): string {
  return lab.exec(ns, 'ss', ['-tanH']);
}

/** Parses `ss -tanH` output; an unexpected line throws, because an oracle must not guess. */
export function parseSs(text: string): SsSocket[] {
  const sockets: SsSocket[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const [stateName, , , local, remote] = fields;
    const state = stateName === undefined ? undefined : SS_STATE_NAMES[stateName];
    if (state === undefined || local === undefined || remote === undefined) {
      throw new Error(`unexpected ss line: ${JSON.stringify(line)}`);
    }
    const localEndpoint = parseEndpoint(local);
    const remoteEndpoint = parseEndpoint(remote);
    sockets.push({
      state,
      family: local.startsWith('[') || local.startsWith('*') ? 'ipv6' : 'ipv4',
      localAddress: localEndpoint.address,
      localPort: localEndpoint.port,
      remoteAddress: remoteEndpoint.address,
      remotePort: remoteEndpoint.port,
    });
  }
  return sockets;
}

function parseEndpoint(text: string): { address: string; port: number } {
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new Error(`unexpected ss endpoint: ${text}`);
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const port = portText === '*' ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`unexpected ss port: ${text}`);
  }
  return { address: normalizeAddress(host === '*' ? '::' : host), port };
}

/**
 * One text form for an address however it was written (ss, engine): brackets and zone
 * dropped, IPv6 in canonical compressed form, IPv4-mapped folded to dotted IPv4.
 */
export function normalizeAddress(text: string): string {
  const bare = text.replace(/^\[/, '').replace(/\]$/, '').replace(/%.*$/, '');
  if (!bare.includes(':')) return bare;
  // The WHATWG URL parser canonicalises IPv6 (RFC 5952 compression, lower case).
  const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped?.[1] === undefined || mapped[2] === undefined) return canonical;
  const high = Number.parseInt(mapped[1], 16);
  const low = Number.parseInt(mapped[2], 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

export function familyStateCounts(sockets: readonly SsSocket[]): Record<Family, StateCounts> {
  const counts = { ipv4: emptyStateCounts(), ipv6: emptyStateCounts() };
  for (const socket of sockets) counts[socket.family][socket.state] += 1;
  return counts;
}

/**
 * Per-state count of a /proc/net/tcp{,6} text the naive way (4th field is `st`), to check
 * that ss and the kernel table show the same sockets without trusting the engine.
 */
export function procTableStateCounts(text: string): StateCounts {
  const counts = emptyStateCounts();
  for (const line of text.split('\n').slice(1)) {
    const code = line.trim().split(/\s+/)[3];
    if (code === undefined) continue;
    const state = TCP_STATES[Number.parseInt(code, 16) - 1];
    if (state === undefined) throw new Error(`unknown state in line: ${line}`);
    counts[state] += 1;
  }
  return counts;
}

/** Distinct local ports with a LISTEN socket, any family, ascending. */
export function listeningPorts(sockets: readonly SsSocket[]): number[] {
  const ports = new Set<number>();
  for (const socket of sockets) if (socket.state === 'listen') ports.add(socket.localPort);
  return [...ports].sort((a, b) => a - b);
}

/** Inbound: non-LISTEN sockets whose local port has a LISTEN socket, by that port. */
export function listenPortStates(sockets: readonly SsSocket[]): Map<number, StateCounts> {
  const listening = new Set(listeningPorts(sockets));
  const byPort = new Map<number, StateCounts>();
  for (const port of listening) byPort.set(port, emptyStateCounts());
  for (const socket of sockets) {
    if (socket.state === 'listen') continue;
    const counts = byPort.get(socket.localPort);
    if (counts) counts[socket.state] += 1;
  }
  return byPort;
}

/** Outbound: sockets whose local port is not listening, by remote port. */
export function remotePortStates(sockets: readonly SsSocket[]): Map<number, StateCounts> {
  const listening = new Set(listeningPorts(sockets));
  const byPort = new Map<number, StateCounts>();
  for (const socket of sockets) {
    if (listening.has(socket.localPort)) continue;
    let counts = byPort.get(socket.remotePort);
    if (!counts) {
      counts = emptyStateCounts();
      byPort.set(socket.remotePort, counts);
    }
    counts[socket.state] += 1;
  }
  return byPort;
}

/** `ip_local_port_range`: two numbers separated by white space. */
export function parsePortRange(text: string): { low: number; high: number } {
  const [low, high] = text.trim().split(/\s+/).map(Number);
  if (low === undefined || high === undefined || !(low <= high)) {
    throw new Error(`bad port range: ${JSON.stringify(text)}`);
  }
  return { low, high };
}

/** `ip_local_reserved_ports`: `""`, `"40000-40010,45000"`, ... as inclusive ranges. */
export function parseReservedPorts(text: string): Array<[number, number]> {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((item) => {
    const [low, high = low] = item.split('-').map(Number);
    if (low === undefined || high === undefined || !(low <= high)) {
      throw new Error(`bad reserved ports: ${JSON.stringify(text)}`);
    }
    return [low, high];
  });
}

export interface OracleDestination {
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Sockets holding a port toward it: the engine's `used` where TIME_WAIT reuse does not apply. */
  readonly used: number;
  readonly timeWait: number;
}

export interface OracleEphemeral {
  /** Ports in the range that are neither reserved nor listening. */
  readonly usable: number;
  readonly usedMax: number;
  /** Every destination holding an ephemeral port, most used first. */
  readonly destinations: readonly OracleDestination[];
}

/**
 * Ephemeral use when every socket blocks (no TIME_WAIT reusable: non-loopback destinations
 * with tcp_tw_reuse 0 or 2, docs/connect-model.md): sockets not LISTEN, local port in the
 * range, not reserved, not a listening port, grouped by (local addr, remote addr, remote
 * port) with IPv4-mapped addresses folded to IPv4 (parseSs already folded them). Even-sized
 * ranges only: an odd one loses its lowest port (rule 9 there).
 */
export function ephemeralUse(
  sockets: readonly SsSocket[],
  range: { readonly low: number; readonly high: number },
  reserved: readonly (readonly [number, number])[],
): OracleEphemeral {
  const listening = new Set(listeningPorts(sockets));
  const isEphemeral = (port: number): boolean =>
    port >= range.low &&
    port <= range.high &&
    !listening.has(port) &&
    !reserved.some(([low, high]) => port >= low && port <= high);
  let usable = 0;
  for (let port = range.low; port <= range.high; port++) if (isEphemeral(port)) usable++;
  const used = new Map<string, OracleDestination>();
  for (const socket of sockets) {
    if (socket.state === 'listen' || !isEphemeral(socket.localPort)) continue;
    const key = `${socket.localAddress} ${socket.remoteAddress} ${socket.remotePort}`;
    const previous = used.get(key);
    used.set(key, {
      localAddress: socket.localAddress,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      used: (previous?.used ?? 0) + 1,
      timeWait: (previous?.timeWait ?? 0) + (socket.state === 'time_wait' ? 1 : 0),
    });
  }
  const destinations = [...used.values()].sort((a, b) => b.used - a.used);
  return { usable, usedMax: destinations[0]?.used ?? 0, destinations };
}
