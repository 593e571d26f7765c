/**
 * Zero-copy reader of /proc/net/nf_conntrack for source NAT: each line is a flow's original
 * tuple then its reply tuple,
 *   `ipv4 2 tcp 6 117 TIME_WAIT src=A dst=R sport=a dport=r src=R dst=N sport=r dport=n [ASSURED] ...`
 * and a flow whose reply destination (N:n) differs from its original source (A:a) was
 * source-NATed: N:n is the NAT address and port it holds toward R:r (docs/conntrack.md).
 * Like tcp-table.ts, one reused buffer, bytes decoded in place, partial lines carried over;
 * no string and no object per line.
 */
import { printedWord } from './address.js';
import { conntrackAbsent } from './conntrack-stats.js';
import { decodeFile, openRegularFile, type ReadInto } from './kernel-files.js';

export interface ConntrackTableStats {
  readonly path: string;
  readonly bytes: number;
  readonly lines: number;
  /** Lines skipped: no two tuples, a bad address or port, cut short. */
  readonly malformed: number;
  /** Source-NATed flows of a protocol with ports, handed to the sink. */
  readonly natted: number;
}

/**
 * Receives each source-NATed flow. Addresses are words as /proc/net/tcp prints them
 * (address.ts), signed; IPv6 ones are `words` 0-3 (NAT address) and 4-7 (remote address),
 * overwritten after the call.
 */
export interface SnatSink {
  addIpv4(protocol: number, nat: number, natPort: number, remote: number, remotePort: number): void;
  addIpv6(protocol: number, words: Int32Array, natPort: number, remotePort: number): void;
}

/** Protocols whose tuples carry ports, by number: the only ones NAT gives ports of. */
export const PORT_PROTOCOLS: Readonly<Record<number, string>> = {
  6: 'tcp',
  17: 'udp',
  33: 'dccp',
  132: 'sctp',
  136: 'udplite',
};

const BUFFER_BYTES = 256 * 1024;
/** 262 144 entries print ~45 MB; the cap bounds a sample's time (memory is one buffer). */
export const CONNTRACK_TABLE_MAX_BYTES = 1024 * 1024 * 1024;

const NEWLINE = 10;
const SPACE = 32;
const COLON = 58;
const DOT = 46;
const EQUALS = 61;
const CHAR_6 = 54;
const CHAR_S = 115;
const CHAR_R = 114;
const CHAR_C = 99;

const ascii = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
const DST = ascii(' dst=');
const SPORT = ascii(' sport=');
const DPORT = ascii(' dport=');

/** 1 at the number of each protocol with ports. */
const HAS_PORTS = new Uint8Array(256);
for (const number of Object.keys(PORT_PROTOCOLS)) HAS_PORTS[Number(number)] = 1;

/** Tuple fields of one line: original source (0-3) and port, reply src (remote) and dst (NAT). */
const ORIGINAL = 0;
const REMOTE = 4;
const NAT = 8;

export class ConntrackTableReader {
  private readonly readBuffer = Buffer.allocUnsafe(BUFFER_BYTES);
  /** The same bytes as a plain Uint8Array: V8 indexes it faster than a Buffer. */
  private readonly buffer = new Uint8Array(
    this.readBuffer.buffer,
    this.readBuffer.byteOffset,
    BUFFER_BYTES,
  );
  /** Address words of the line being decoded: original source, remote, NAT (4 each). */
  private readonly words = new Int32Array(12);
  private readonly sinkWords = new Int32Array(8);
  private readonly ports = new Int32Array(3);
  private readonly groups = new Int32Array(8);
  /** Where the last parse stopped (a number field's end). */
  private at = 0;

  constructor(private readonly maxBytes = CONNTRACK_TABLE_MAX_BYTES) {}

  /** Throws a SourceError naming the path when the file is missing, unreadable or too large. */
  read(
    path: string,
    sink: SnatSink,
    readChunkBytes = Number.POSITIVE_INFINITY,
  ): ConntrackTableStats {
    const fd = openRegularFile(path);
    if (fd === undefined) throw conntrackAbsent(path);
    const limits = { maxBytes: this.maxBytes, readChunkBytes };
    return decodeFile(fd, path, limits, (readInto) => ({ path, ...this.decode(readInto, sink) }));
  }

  /** Decodes a whole table (it has no header line) from any byte source. */
  decode(readInto: ReadInto, sink: SnatSink): Omit<ConntrackTableStats, 'path'> {
    const buffer = this.readBuffer;
    let bytes = 0;
    let lines = 0;
    let malformed = 0;
    let natted = 0;
    let carried = 0;
    let discarding = false;
    for (;;) {
      const read = readInto(buffer, carried, BUFFER_BYTES - carried);
      if (read === 0) break;
      bytes += read;
      const filled = carried + read;
      // Bounded to what this read filled: the bytes after it are an older read's.
      const view = buffer.subarray(0, filled);
      let lineStart = 0;
      for (;;) {
        const newline = view.indexOf(NEWLINE, lineStart);
        if (newline === -1) break;
        lines++;
        if (discarding) {
          malformed++;
          discarding = false;
        } else {
          const outcome = this.decodeLine(lineStart, newline, sink);
          if (outcome < 0) malformed++;
          else natted += outcome;
        }
        lineStart = newline + 1;
      }
      carried = filled - lineStart;
      if (carried === BUFFER_BYTES) {
        discarding = true;
        carried = 0;
      } else if (carried > 0 && lineStart > 0) {
        buffer.copyWithin(0, lineStart, filled);
      }
    }
    // A last line without its newline was cut short: never trust its fields.
    if (carried > 0 || discarding) {
      lines++;
      malformed++;
    }
    return { bytes, lines, malformed, natted };
  }

  /**
   * 1: a source-NATed flow went to the sink; 0: a flow that is not, or of a protocol
   * without ports; -1: malformed. The tuples' fields come in a fixed order (src, dst, then
   * sport, dport), so each is expected in turn rather than looked up.
   */
  private decodeLine(start: number, end: number, sink: SnatSink): number {
    const buffer = this.buffer;
    const ipv6 = buffer[start + 3] === CHAR_6;
    // Fields 3 and 4: the protocol's name, then its number.
    const protocol = this.decimal(
      this.skipField(this.skipField(this.skipField(start, end), end), end),
      end,
    );
    if (protocol < 0) return -1;
    if (protocol > 255 || HAS_PORTS[protocol] === 0) return 0;
    // The original tuple: its source is compared with the reply's destination.
    let at = this.nextTuple(this.at, end);
    if (at < 0) return -1;
    at = this.address(at, end, ipv6, ORIGINAL);
    if (at < 0 || !this.expect(at, end, DST)) return -1;
    at = this.skipField(at + 1, end);
    if (!this.expect(at - 1, end, SPORT)) return -1;
    const sourcePort = this.decimal(at + 6, end);
    if (sourcePort < 0 || sourcePort > 65535) return -1;
    // The reply tuple: remote address and port, then the NAT address and port.
    at = this.nextTuple(this.at, end);
    if (at < 0) return -1;
    at = this.address(at, end, ipv6, REMOTE);
    if (at < 0 || !this.expect(at, end, DST)) return -1;
    at = this.address(at + 5, end, ipv6, NAT);
    if (at < 0 || !this.expect(at, end, SPORT)) return -1;
    const remotePort = this.decimal(at + 7, end);
    if (remotePort < 0 || remotePort > 65535 || !this.expect(this.at, end, DPORT)) return -1;
    const natPort = this.decimal(this.at + 7, end);
    if (natPort < 0 || natPort > 65535) return -1;
    this.ports[0] = sourcePort;
    this.ports[1] = remotePort;
    this.ports[2] = natPort;
    return this.deliverIfNatted(protocol, ipv6, sink);
  }

  private deliverIfNatted(protocol: number, ipv6: boolean, sink: SnatSink): number {
    const { words, ports } = this;
    const natPort = ports[2] as number;
    const remotePort = ports[1] as number;
    if (!ipv6) {
      const nat = words[NAT] as number;
      if (nat === words[ORIGINAL] && natPort === ports[0]) return 0;
      sink.addIpv4(protocol, nat, natPort, words[REMOTE] as number, remotePort);
      return 1;
    }
    let same = natPort === ports[0];
    for (let i = 0; i < 4 && same; i++) same = words[NAT + i] === words[ORIGINAL + i];
    if (same) return 0;
    const out = this.sinkWords;
    for (let i = 0; i < 4; i++) {
      out[i] = words[NAT + i] as number;
      out[4 + i] = words[REMOTE + i] as number;
    }
    sink.addIpv6(protocol, out, natPort, remotePort);
    return 1;
  }

  /** The index after the next `src=` from `at`, or -1 when the line has none. */
  private nextTuple(at: number, end: number): number {
    const buffer = this.buffer;
    for (at = this.skipSpaces(at, end); at < end; at = this.skipField(at, end)) {
      if (
        buffer[at] === CHAR_S &&
        buffer[at + 1] === CHAR_R &&
        buffer[at + 2] === CHAR_C &&
        buffer[at + 3] === EQUALS
      ) {
        return at + 4;
      }
    }
    return -1;
  }

  /** Whether ` <name>=` (given with its leading space) is at `at`. */
  private expect(at: number, end: number, literal: Uint8Array): boolean {
    if (at + literal.length > end) return false;
    const buffer = this.buffer;
    for (let i = 0; i < literal.length; i++) if (buffer[at + i] !== literal[i]) return false;
    return true;
  }

  private skipSpaces(at: number, end: number): number {
    const buffer = this.buffer;
    while (at < end && buffer[at] === SPACE) at++;
    return at;
  }

  /** The index after the field at `at` and the spaces that follow it. */
  private skipField(at: number, end: number): number {
    const buffer = this.buffer;
    while (at < end && buffer[at] !== SPACE) at++;
    while (at < end && buffer[at] === SPACE) at++;
    return at;
  }

  /** A decimal number from `at` up to a space or the end, else -1; this.at: where it ended. */
  private decimal(at: number, end: number): number {
    const buffer = this.buffer;
    let value = 0;
    const from = at;
    for (; at < end; at++) {
      const digit = (buffer[at] as number) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
      if (value > 0xffffffff) return -1;
    }
    this.at = at;
    if (at === from || (at < end && buffer[at] !== SPACE)) return -1;
    return value;
  }

  /** Decodes an address into words[slot..]; the index after it, or -1 when malformed. */
  private address(at: number, end: number, ipv6: boolean, slot: number): number {
    return ipv6 ? this.ipv6Address(at, end, slot) : this.ipv4Address(at, end, slot);
  }

  /** Dotted quad into words[slot]: the octets gathered in network order, then converted once. */
  private ipv4Address(at: number, end: number, slot: number): number {
    const buffer = this.buffer;
    let network = 0;
    for (let part = 0; part < 4; part++) {
      let value = 0;
      const from = at;
      for (; at < end && at - from < 3; at++) {
        const digit = (buffer[at] as number) - 48;
        if (digit < 0 || digit > 9) break;
        value = value * 10 + digit;
      }
      if (at === from || value > 255) return -1;
      network = network * 256 + value;
      const next = buffer[at];
      if (part < 3 ? next !== DOT : at < end && next !== SPACE) return -1;
      if (part < 3) at++;
    }
    this.words[slot] = printedWord(
      network >>> 24,
      (network >>> 16) & 255,
      (network >>> 8) & 255,
      network & 255,
    );
    return at;
  }

  /** Eight groups of hex digits as %pI6 prints them, or a `::`-compressed form. */
  private ipv6Address(at: number, end: number, slot: number): number {
    const buffer = this.buffer;
    const groups = this.groups;
    groups.fill(0);
    let count = 0;
    let gap = -1;
    if (buffer[at] === COLON && buffer[at + 1] === COLON) {
      gap = 0;
      at += 2;
    }
    while (at < end && buffer[at] !== SPACE) {
      let value = 0;
      const from = at;
      for (; at < end && at - from < 4; at++) {
        const hex = hexValue(buffer[at] as number);
        if (hex < 0) break;
        value = value * 16 + hex;
      }
      if (at === from || count === 8) return -1;
      groups[count++] = value;
      if (at < end && buffer[at] === COLON) {
        at++;
        if (buffer[at] === COLON) {
          if (gap >= 0) return -1;
          gap = count;
          at++;
        } else if (at >= end || buffer[at] === SPACE) return -1;
      } else if (at < end && buffer[at] !== SPACE) return -1;
    }
    if (gap < 0 ? count !== 8 : count > 7) return -1;
    if (gap >= 0) {
      const tail = groups.slice(gap, count);
      groups.fill(0, gap);
      groups.set(tail, 8 - tail.length);
    }
    for (let word = 0; word < 4; word++) {
      const high = groups[2 * word] as number;
      const low = groups[2 * word + 1] as number;
      this.words[slot + word] = printedWord(high >> 8, high & 0xff, low >> 8, low & 0xff);
    }
    return at;
  }
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}
