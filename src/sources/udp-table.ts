/**
 * The UDP ports a wider ephemeral range would collide with: net/udp and net/udp6, read only
 * for the local ports of unconnected sockets (servers, and clients that sent without binding).
 * Lines are `sl: local rem st ...` like the TCP tables (udp4_format_sock, udp6_sock_seq_show):
 * fields are found from the `sl` colon, addresses are hex words, ports 4 hex digits; a
 * connected socket has state 01 and a remote port, an unconnected one 07 and remote port 0.
 */
import { join } from 'node:path';
import { readOptionalText, readRequiredText, SourceError } from './kernel-files.js';
import { tableProblem } from './tcp-table.js';

export interface UdpListeners {
  /** Distinct local ports of unconnected UDP sockets, IPv4 and IPv6, ascending. */
  readonly ports: readonly number[];
}

/** 100 000 sockets print about 13 MB (udp6 lines are 150 bytes); doctor reads it once. */
export const UDP_TABLE_MAX_BYTES = 32 * 1024 * 1024;

/** The kernel's TCP_CLOSE, which an unconnected UDP socket keeps; connect() sets 01. */
const UNCONNECTED = 0x07;
const HEX_ADDRESS_LENGTHS = new Set([8, 32]);

/** `ADDRESS:PORT` with hex digits only; the port, or -1. */
function endpointPort(field: string): number {
  const colon = field.indexOf(':');
  const address = field.slice(0, colon);
  const port = field.slice(colon + 1);
  if (colon < 0 || !HEX_ADDRESS_LENGTHS.has(address.length) || port.length !== 4) return -1;
  if (!/^[0-9A-Fa-f]+$/.test(address) || !/^[0-9A-Fa-f]{4}$/.test(port)) return -1;
  return Number.parseInt(port, 16);
}

/**
 * The unconnected sockets' local ports of one table's text into `ports`. Throws a
 * SourceError naming `path` when the text cannot be the kernel's (the TCP tables' rule:
 * a header, and at most 1 % malformed lines).
 */
export function decodeUdpTable(text: string, path: string, ports: Set<number>): void {
  const lines = text.split('\n');
  // What follows the last newline: a line cut short, never trusted.
  const cut = lines.pop() === '' ? 0 : 1;
  const body = lines.slice(1);
  let malformed = cut;
  for (const line of body) {
    const colon = line.indexOf(':');
    const [local = '', remote = '', state = ''] = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const localPort = endpointPort(local);
    const remotePort = endpointPort(remote);
    if (colon < 0 || localPort < 0 || remotePort < 0 || !/^[0-9A-Fa-f]{2}$/.test(state)) {
      malformed++;
    } else if (Number.parseInt(state, 16) === UNCONNECTED && remotePort === 0 && localPort !== 0) {
      ports.add(localPort);
    }
  }
  const problem = tableProblem({
    bytes: text.length,
    lines: body.length + cut,
    malformed,
    sockets: body.length + cut - malformed,
    header: lines.length === 0 ? undefined : (lines[0] ?? '').includes('local_address'),
  });
  if (problem !== undefined) throw new SourceError(`${path}: ${problem}`);
}

/** net/udp (required) and net/udp6 (absent without IPv6). */
export function readUdpListeners(procfsRoot: string): UdpListeners {
  const ports = new Set<number>();
  const path = join(procfsRoot, 'net/udp');
  decodeUdpTable(readRequiredText(path, UDP_TABLE_MAX_BYTES), path, ports);
  const path6 = join(procfsRoot, 'net/udp6');
  const text6 = readOptionalText(path6, UDP_TABLE_MAX_BYTES);
  if (text6 !== undefined) decodeUdpTable(text6, path6, ports);
  return { ports: [...ports].sort((a, b) => a - b) };
}
