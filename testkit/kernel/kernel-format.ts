/**
 * Writes /proc/net/tcp{,6} text exactly as the kernel does (net/ipv4/tcp_ipv4.c,
 * net/ipv6/tcp_ipv6.c): full sockets, TIME_WAIT sockets and request sockets each have
 * their own printf; tcp lines are padded to 149 characters, tcp6 lines are not.
 */
import { endianness } from 'node:os';

export type LineShape = 'full' | 'timewait' | 'request';

export interface KernelSocket {
  /** 4 bytes for tcp, 16 for tcp6, in network order (as on the wire). */
  readonly local: readonly number[];
  readonly localPort: number;
  readonly remote: readonly number[];
  readonly remotePort: number;
  /** Kernel state code 1..11. */
  readonly state: number;
  readonly shape?: LineShape;
  readonly inode?: number;
  /** rx_queue: a listener's accept queue length (0 when absent). */
  readonly rxQueue?: number;
  /** when of a TIME_WAIT line: clock ticks left (6066 when absent). */
  readonly ticksLeft?: number;
}

const TCP_LINE_WIDTH = 149;
export const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
export const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

const hex = (value: number, width: number) => value.toString(16).toUpperCase().padStart(width, '0');

/** One 32-bit word as `%08X` of the native integer holding these 4 network-order bytes. */
function word(bytes: readonly number[], offset: number): string {
  const [a = 0, b = 0, c = 0, d = 0] = bytes.slice(offset, offset + 4);
  const value =
    endianness() === 'LE'
      ? ((d << 24) | (c << 16) | (b << 8) | a) >>> 0
      : ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  return hex(value, 8);
}

export function kernelAddress(bytes: readonly number[]): string {
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 4) text += word(bytes, offset);
  return text;
}

const POINTER = '0000000000000000';

export function formatSocketLine(slot: number, socket: KernelSocket): string {
  const ipv6 = socket.local.length === 16;
  const shape =
    socket.shape ?? (socket.state === 6 ? 'timewait' : socket.state === 3 ? 'request' : 'full');
  const head = `${String(slot).padStart(4, ' ')}: ${kernelAddress(socket.local)}:${hex(socket.localPort, 4)} ${kernelAddress(socket.remote)}:${hex(socket.remotePort, 4)} ${hex(socket.state, 2)}`;
  const inode = socket.inode ?? 0;
  let tail: string;
  if (shape === 'full') {
    tail = ` 00000000:${hex(socket.rxQueue ?? 0, 8)} 00:00000000 00000000  1000        0 ${inode} 1 ${POINTER} 20 4 30 10 -1`;
  } else if (shape === 'timewait') {
    tail = ` 00000000:00000000 03:${hex(socket.ticksLeft ?? 0x17b2, 8)} 00000000     0        0 0 3 ${POINTER}`;
  } else {
    tail = ` 00000000:00000000 01:00000064 00000000     0        0 0 0 ${POINTER}`;
  }
  const line = head + tail;
  return ipv6 ? line : line.padEnd(TCP_LINE_WIDTH, ' ');
}

/** A whole table file: header plus one line per socket, numbered from 0. */
export function formatTable(family: 'ipv4' | 'ipv6', sockets: readonly KernelSocket[]): string {
  const header = family === 'ipv4' ? TCP_HEADER.padEnd(TCP_LINE_WIDTH, ' ') : TCP6_HEADER;
  return [header, ...sockets.map((socket, slot) => formatSocketLine(slot, socket))]
    .map((line) => `${line}\n`)
    .join('');
}

const UDP_LINE_WIDTH = 127;
const UDP_HEADER =
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
const UDP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';

/**
 * /proc/net/udp{,6} as udp4_format_sock and udp6_sock_seq_show print it: `%5d:` slots, udp
 * lines padded to 127 characters, udp6 lines not. State 07 unconnected, 01 connected.
 */
export function formatUdpTable(
  family: 'ipv4' | 'ipv6',
  sockets: readonly Omit<KernelSocket, 'shape' | 'rxQueue' | 'ticksLeft'>[],
): string {
  const lines = sockets.map((socket, slot) => {
    const line = `${String(slot).padStart(5, ' ')}: ${kernelAddress(socket.local)}:${hex(socket.localPort, 4)} ${kernelAddress(socket.remote)}:${hex(socket.remotePort, 4)} ${hex(socket.state, 2)} 00000000:00000000 00:00000000 00000000     0        0 ${socket.inode ?? 0} 2 ${POINTER} 0`;
    return family === 'ipv4' ? line.padEnd(UDP_LINE_WIDTH, ' ') : line;
  });
  const header = family === 'ipv4' ? UDP_HEADER.padEnd(UDP_LINE_WIDTH, ' ') : UDP6_HEADER;
  return [header, ...lines].map((line) => `${line}\n`).join('');
}

/** `::ffff:a.b.c.d` as 16 bytes. */
export function ipv4Mapped(ipv4: readonly number[]): number[] {
  return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ipv4];
}
