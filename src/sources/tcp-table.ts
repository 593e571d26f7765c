/**
 * Zero-copy reader of /proc/net/tcp and /proc/net/tcp6. Each read() of these files
 * returns about one page whatever the buffer size, so the loop reads into one reused
 * buffer, decodes every complete line straight from the bytes, and carries a partial
 * line over to the next read. No strings, no objects per line.
 *
 * The buffer is the memory of a small WebAssembly module (line-decoder.wat), which finds
 * the newlines and decodes the lines with SIMD into records of numbers; this file feeds
 * it, handles the header and lines longer than the buffer, and hands records to a sink.
 */
import { decodeFile, openRegularFile, type ReadInto, SourceError } from './kernel-files.js';
import { LINE_DECODER_WASM_BASE64 } from './line-decoder-wasm.js';

export interface TableFileStats {
  /** The path that was read. */
  readonly path: string;
  /** False when the file does not exist (tcp6 with IPv6 disabled). */
  readonly present: boolean;
  readonly bytes: number;
  /** Lines after the header, malformed ones included. */
  readonly lines: number;
  /** Lines skipped as malformed (bad hex, too short, unknown state, truncated). */
  readonly malformed: number;
  readonly sockets: number;
}

const NEWLINE = 10;

export type TableFamily = 'ipv4' | 'ipv6';

/**
 * Receives decoded sockets; addresses are the words as printed (see address.ts), as
 * signed 32-bit integers: V8 keeps those as small integers, where a word above 2^31 as
 * an unsigned number would become a heap number at every call. IPv6 addresses are the
 * eight words of `words` from `offset`, local 0-3 then remote 4-7, overwritten after
 * the call: read them before returning. `stateField1` and `stateField2` are fields only
 * some states need, as printed (hex, signed like the words): LISTEN rx_queue (the accept
 * queue's length) and when; TIME_WAIT tr (the timer's kind, 3) and when (clock ticks
 * until it ends); CLOSE_WAIT 0 and the inode (decimal, as a signed 32-bit integer; 0 when
 * no program holds the socket yet); 0 and 0 for every other state.
 */
export interface SocketSink {
  addIpv4(
    stateIndex: number,
    localPort: number,
    remotePort: number,
    local: number,
    remote: number,
    stateField1: number,
    stateField2: number,
  ): void;
  addIpv6(
    stateIndex: number,
    localPort: number,
    remotePort: number,
    words: Int32Array,
    offset: number,
    stateField1: number,
    stateField2: number,
  ): void;
}

interface LineDecoderExports {
  readonly memory: WebAssembly.Memory;
  readonly bufferBytes: WebAssembly.Global;
  readonly records: WebAssembly.Global;
  readonly next: WebAssembly.Global;
  readonly lines: WebAssembly.Global;
  readonly malformed: WebAssembly.Global;
  decode(from: number, end: number, ipv6: number): number;
}

/** Compiled once; each reader instantiates its own memory. */
const LINE_DECODER = new WebAssembly.Module(Buffer.from(LINE_DECODER_WASM_BASE64, 'base64'));

/** Words per record: state, local port, remote port, two state fields, 2 or 8 address words. */
const IPV4_RECORD_WORDS = 7;
const IPV6_RECORD_WORDS = 13;
const ADDRESS_OFFSET = 5;

export const BUFFER_BYTES = 256 * 1024;

/**
 * A table larger than this is refused: 1M sockets print ~150 MB (tcp6 lines are longest,
 * 178 bytes), so this holds ~3M sockets. The read streams through one buffer, so the cap
 * bounds the time a sample takes, not memory.
 */
export const TABLE_MAX_BYTES = 512 * 1024 * 1024;

/** Every table starts with this header line, whatever the kernel's version. */
const HEADER_MARK = Buffer.from('local_address');

export type { ReadInto } from './kernel-files.js';

/**
 * Bytes, lines, malformed lines and sockets of one table; `header`: whether its first line
 * is the header, undefined when the table has no complete first line.
 */
export type TableDecodeStats = Pick<TableFileStats, 'bytes' | 'lines' | 'malformed' | 'sockets'> & {
  readonly header: boolean | undefined;
};

/**
 * Malformed lines beyond this share of a table's lines fail it. The kernel prints none, so
 * they mean the file is not (all) its own; counts short by more than 1% would mislead
 * dashboards and alerts. Fewer are skipped and counted (tcpstate_malformed_lines_total, and
 * an alert on it): docs/reliability.md.
 */
export const MAX_MALFORMED_SHARE = 0.01;

/**
 * Why a decoded table cannot be the kernel's: it always prints the header line, so a table
 * without one, or whose lines are all malformed, would otherwise pass as "no sockets"; and
 * too many malformed lines (MAX_MALFORMED_SHARE) would pass as fewer sockets.
 */
export function tableProblem(stats: TableDecodeStats): string | undefined {
  if (stats.bytes === 0) return 'empty (the kernel always prints a header line)';
  if (stats.header === undefined) return 'no newline (the kernel ends every line with one)';
  if (!stats.header) return 'the first line is not the header (no local_address column)';
  if (stats.lines > 0 && stats.malformed === stats.lines) {
    return `not one of its ${stats.lines} lines is well-formed`;
  }
  if (stats.malformed > stats.lines * MAX_MALFORMED_SHARE) {
    const verb = stats.malformed === 1 ? 'is' : 'are';
    return `${stats.malformed} of its ${stats.lines} lines ${verb} malformed (more than ${MAX_MALFORMED_SHARE * 100}%)`;
  }
  return undefined;
}

/** Reads whole tables through one preallocated buffer; one instance per sampler. */
export class TcpTableReader {
  private readonly decoder: LineDecoderExports;
  private readonly buffer: Buffer;
  private readonly records: Int32Array;

  /** `maxBytes`: larger tables fail (tests lower it). */
  constructor(private readonly maxBytes = TABLE_MAX_BYTES) {
    this.decoder = new WebAssembly.Instance(LINE_DECODER).exports as unknown as LineDecoderExports;
    if (this.decoder.bufferBytes.value !== BUFFER_BYTES) {
      throw new Error('line-decoder.wat and tcp-table.ts disagree on the buffer size');
    }
    // The memory never grows, so these views stay valid.
    const memory = this.decoder.memory.buffer;
    this.buffer = Buffer.from(memory, 0, BUFFER_BYTES);
    const recordsOffset = this.decoder.records.value as number;
    this.records = new Int32Array(memory, recordsOffset, (memory.byteLength - recordsOffset) / 4);
    // One decode() writes a record per socket line of a full buffer, and such a line has
    // at least 35 bytes: `0: `, the fixed fields of tcp up to the space after the state,
    // and the newline.
    if (this.records.length < Math.ceil(BUFFER_BYTES / 35) * IPV6_RECORD_WORDS) {
      throw new Error('line-decoder.wat leaves too little memory for the records');
    }
  }

  /**
   * Decodes the table at `path` into `sink`. A missing file is reported as not present;
   * any other error (not a regular file, unreadable, too large, no header line, too many
   * malformed lines) is thrown with the path in it.
   * `readChunkBytes` caps a single read(), for tests of the line carry-over.
   */
  read(
    path: string,
    family: TableFamily,
    sink: SocketSink,
    readChunkBytes = Number.POSITIVE_INFINITY,
  ): TableFileStats {
    const fd = openRegularFile(path);
    if (fd === undefined) {
      return { path, present: false, bytes: 0, lines: 0, malformed: 0, sockets: 0 };
    }
    const limits = { maxBytes: this.maxBytes, readChunkBytes };
    return decodeFile(fd, path, limits, (readInto) => {
      const stats = this.decode(readInto, family, sink);
      const problem = tableProblem(stats);
      if (problem !== undefined) throw new SourceError(`cannot use ${path}: ${problem}`);
      const { header: _header, ...counts } = stats;
      return { path, present: true, ...counts };
    });
  }

  /** Decodes a whole table (header line included) from any byte source, a buffer at a time. */
  decode(readInto: ReadInto, family: TableFamily, sink: SocketSink): TableDecodeStats {
    const { buffer, decoder } = this;
    const ipv6 = family === 'ipv6' ? 1 : 0;
    let bytes = 0;
    let lines = 0;
    let malformed = 0;
    let sockets = 0;
    let headerSeen = false;
    let headerValid = false;
    // True while skipping a line longer than the whole buffer.
    let discarding = false;
    let carried = 0;
    for (;;) {
      const read = readInto(buffer, carried, BUFFER_BYTES - carried);
      if (read === 0) break;
      bytes += read;
      const filled = carried + read;
      let lineStart = 0;
      if (!headerSeen || discarding) {
        // Up to the end of the header, or of a line too long to decode. Bytes before
        // `carried` hold no newline.
        const newline = buffer.subarray(0, filled).indexOf(NEWLINE, carried);
        if (newline !== -1) {
          if (headerSeen) {
            lines++;
            malformed++;
          } else {
            headerValid = buffer.subarray(0, newline).includes(HEADER_MARK);
          }
          headerSeen = true;
          discarding = false;
          lineStart = newline + 1;
        }
      }
      if (headerSeen && !discarding) {
        const count = decoder.decode(lineStart, filled, ipv6);
        this.deliver(count, ipv6, sink);
        sockets += count;
        lines += decoder.lines.value as number;
        malformed += decoder.malformed.value as number;
        lineStart = decoder.next.value as number;
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
    if ((carried > 0 || discarding) && headerSeen) {
      lines++;
      malformed++;
    }
    return { bytes, lines, malformed, sockets, header: headerSeen ? headerValid : undefined };
  }

  /** Hands the decoder's `count` records to the sink. */
  private deliver(count: number, ipv6: number, sink: SocketSink): void {
    const records = this.records;
    if (ipv6 === 0) {
      for (let i = 0, at = 0; i < count; i++, at += IPV4_RECORD_WORDS) {
        sink.addIpv4(
          records[at] as number,
          records[at + 1] as number,
          records[at + 2] as number,
          records[at + 5] as number,
          records[at + 6] as number,
          records[at + 3] as number,
          records[at + 4] as number,
        );
      }
      return;
    }
    for (let i = 0, at = 0; i < count; i++, at += IPV6_RECORD_WORDS) {
      sink.addIpv6(
        records[at] as number,
        records[at + 1] as number,
        records[at + 2] as number,
        records,
        at + ADDRESS_OFFSET,
        records[at + 3] as number,
        records[at + 4] as number,
      );
    }
  }
}
