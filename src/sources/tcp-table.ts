/**
 * Zero-copy reader of /proc/net/tcp and /proc/net/tcp6. Each read() of these files
 * returns about one page whatever the buffer size, so the loop reads into one reused
 * buffer, decodes every complete line straight from the bytes, and carries a partial
 * line over to the next read. No strings, no objects per line.
 *
 * Line: `%4d: LOCAL:PORT REMOTE:PORT ST ...`. `sl` widens past 9999, so fields are found
 * relative to the first colon. Only the first fields are decoded: line shapes differ by
 * state beyond them.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { TableFileStats } from '../snapshot/model.js';
import { readHex2, readHex4, readHex8, viewOf } from './hex.js';
import { SourceError } from './kernel-files.js';

export const MIN_BUFFER_BYTES = 256 * 1024;

const NEWLINE = 10;
const SPACE = 32;
const COLON = 58;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** Offsets from the `sl` colon, per family: where each field starts. */
const IPV4_LAYOUT = { local: 2, address: 8 } as const;
const IPV6_LAYOUT = { local: 2, address: 32 } as const;
type Layout = typeof IPV4_LAYOUT | typeof IPV6_LAYOUT;

export type TableFamily = 'ipv4' | 'ipv6';

/**
 * Receives decoded sockets; addresses are the words as printed (see address.ts), as
 * signed 32-bit integers: V8 keeps those as small integers, where a word above 2^31 as
 * an unsigned number would become a heap number at every call. IPv6 addresses come as
 * one array, local words 0-3 then remote words 4-7, reused for the next line: read it
 * before returning.
 */
export interface SocketSink {
  addIpv4(
    stateIndex: number,
    localPort: number,
    remotePort: number,
    local: number,
    remote: number,
  ): void;
  addIpv6(stateIndex: number, localPort: number, remotePort: number, words: Int32Array): void;
}

/** The eight words of a tcp6 line's two addresses, filled for each line. */
const IPV6_WORDS = new Int32Array(8);

/**
 * Decodes one line (without its newline) of the table that `view` holds into the sink.
 * Returns false, adding nothing, when the line is malformed: no `sl:` prefix, too short,
 * a separator out of place, a bad hex digit, or a state code outside 01..0B.
 */
export function decodeLine(
  view: DataView,
  start: number,
  end: number,
  family: TableFamily,
  sink: SocketSink,
): boolean {
  let colon = start;
  while (colon < end && view.getUint8(colon) === SPACE) colon++;
  const digitsStart = colon;
  while (colon < end) {
    const byte = view.getUint8(colon);
    if (byte < DIGIT_0 || byte > DIGIT_9) break;
    colon++;
  }
  if (colon === digitsStart || colon >= end || view.getUint8(colon) !== COLON) return false;

  const layout: Layout = family === 'ipv4' ? IPV4_LAYOUT : IPV6_LAYOUT;
  const local = colon + layout.local;
  const localPort = local + layout.address + 1;
  const remote = localPort + 5;
  const remotePort = remote + layout.address + 1;
  const state = remotePort + 5;
  // The state must be followed by a space: the kernel always prints more fields.
  if (state + 3 > end) return false;
  if (
    view.getUint8(colon + 1) !== SPACE ||
    view.getUint8(localPort - 1) !== COLON ||
    view.getUint8(remote - 1) !== SPACE ||
    view.getUint8(remotePort - 1) !== COLON ||
    view.getUint8(state - 1) !== SPACE ||
    view.getUint8(state + 2) !== SPACE
  ) {
    return false;
  }
  const stateCode = readHex2(view, state);
  const localPortValue = readHex4(view, localPort);
  const remotePortValue = readHex4(view, remotePort);
  if (stateCode < 1 || stateCode > 11 || localPortValue < 0 || remotePortValue < 0) return false;

  if (family === 'ipv4') {
    const localAddress = readHex8(view, local);
    const remoteAddress = readHex8(view, remote);
    if (localAddress < 0 || remoteAddress < 0) return false;
    sink.addIpv4(
      stateCode - 1,
      localPortValue,
      remotePortValue,
      localAddress | 0,
      remoteAddress | 0,
    );
    return true;
  }
  // One call site in a loop: eight inlined copies of readHex8 would exhaust V8's
  // inlining budget for this function, and the calls left over cost a third of the time.
  const words = IPV6_WORDS;
  for (let i = 0; i < 8; i++) {
    const word = readHex8(view, i < 4 ? local + 8 * i : remote + 8 * (i - 4));
    if (word < 0) return false;
    words[i] = word;
  }
  sink.addIpv6(stateCode - 1, localPortValue, remotePortValue, words);
  return true;
}

/** Reads whole tables through one preallocated buffer; one instance per sampler. */
export class TcpTableReader {
  private readonly buffer: Buffer;
  private readonly view: DataView;

  constructor(bufferBytes = MIN_BUFFER_BYTES) {
    this.buffer = Buffer.allocUnsafe(Math.max(bufferBytes, MIN_BUFFER_BYTES));
    this.view = viewOf(this.buffer);
  }

  /**
   * Decodes the table at `path` into `sink`. A missing file is reported as not present;
   * any other error (unreadable file, read failure) is thrown with the path in it.
   * `readChunkBytes` caps a single read(), for tests of the line carry-over.
   */
  read(
    path: string,
    family: TableFamily,
    sink: SocketSink,
    readChunkBytes = Number.POSITIVE_INFINITY,
  ): TableFileStats {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      return this.decodeFile(fd, path, family, sink, readChunkBytes);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && fd === undefined) {
        return { path, present: false, bytes: 0, lines: 0, malformed: 0, sockets: 0 };
      }
      throw new SourceError(`cannot read ${path}: ${code ?? (error as Error).message}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private decodeFile(
    fd: number,
    path: string,
    family: TableFamily,
    sink: SocketSink,
    readChunkBytes: number,
  ): TableFileStats {
    const buffer = this.buffer;
    let bytes = 0;
    let lines = 0;
    let malformed = 0;
    let sockets = 0;
    let headerSeen = false;
    // True while skipping a line longer than the whole buffer.
    let discarding = false;
    let carried = 0;
    for (;;) {
      const room = Math.min(buffer.length - carried, readChunkBytes);
      const read = readSync(fd, buffer, carried, room, null);
      if (read === 0) break;
      bytes += read;
      const filled = carried + read;
      // indexOf has no end: without a sentinel, the search past each read's last line
      // would scan the rest of the buffer, about 252 KiB per 4 KiB read of /proc.
      if (filled < buffer.length) buffer[filled] = NEWLINE;
      let lineStart = 0;
      // Bytes before `carried` hold no newline: search only the new ones.
      let newline = buffer.indexOf(NEWLINE, carried);
      while (newline !== -1 && newline < filled) {
        if (!headerSeen) {
          headerSeen = true;
        } else {
          lines++;
          if (!discarding && decodeLine(this.view, lineStart, newline, family, sink)) sockets++;
          else malformed++;
        }
        discarding = false;
        lineStart = newline + 1;
        newline = buffer.indexOf(NEWLINE, lineStart);
      }
      carried = filled - lineStart;
      if (carried === buffer.length) {
        discarding = true;
        carried = 0;
      } else if (carried > 0 && lineStart > 0) {
        buffer.copyWithin(0, lineStart, filled);
      }
    }
    // A last line without its newline was cut short: never trust its fields.
    if ((carried > 0 || discarding) && headerSeen) {
      lines++;
      malformed++;
    }
    return { path, present: true, bytes, lines, malformed, sockets };
  }
}
