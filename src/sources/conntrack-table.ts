/**
 * Zero-copy reader of /proc/net/nf_conntrack for source NAT: each line is a flow's original
 * tuple then its reply tuple,
 *   `ipv4 2 tcp 6 117 TIME_WAIT src=A dst=R sport=a dport=r src=R dst=N sport=r dport=n [ASSURED] ...`
 * and a flow whose reply destination (N:n) differs from its original source (A:a) was
 * source-NATed: N:n is the NAT address and port it holds toward R:r (docs/conntrack.md).
 * The buffer is the memory of a WebAssembly module (conntrack-decoder.wat) that decodes the
 * lines and counts the NATed flows per destination in its own hash table: one call per
 * read, no string, object or JS call per line; the table is read once per sample.
 */
import { CONNTRACK_DECODER_WASM_BASE64 } from './conntrack-decoder-wasm.js';
import { conntrackAbsent } from './conntrack-stats.js';
import { decodeFile, openRegularFile, type ReadInto, SourceError } from './kernel-files.js';

export interface ConntrackTableStats {
  readonly path: string;
  readonly bytes: number;
  readonly lines: number;
  /** Lines skipped: no two tuples, a bad address or port, cut short. */
  readonly malformed: number;
  /** Source-NATed flows of a protocol with ports, counted per destination. */
  readonly natted: number;
}

/** Protocols whose tuples carry ports, by number: the only ones NAT gives ports of. */
export const PORT_PROTOCOLS: Readonly<Record<number, string>> = {
  6: 'tcp',
  17: 'udp',
  33: 'dccp',
  132: 'sctp',
  136: 'udplite',
};

/** 1 MiB: a 45 MB table in ~45 read() calls rather than ~180 (each a JS-kernel round trip). */
const BUFFER_BYTES = 1024 * 1024;
/** 262 144 entries print ~45 MB; the cap bounds a sample's time (memory is one buffer). */
export const CONNTRACK_TABLE_MAX_BYTES = 1024 * 1024 * 1024;
/**
 * Destinations counted at most: the hash table stays at most half full, so this bounds its
 * memory (2 slots of 40 bytes each, plus a copy of the old half while it grows: ~120 MB).
 */
export const CONNTRACK_MAX_DESTINATIONS = 1024 * 1024;

interface ConntrackDecoderExports {
  readonly memory: WebAssembly.Memory;
  readonly bufferBytes: WebAssembly.Global;
  readonly table: WebAssembly.Global;
  readonly slots: WebAssembly.Global;
  readonly size: WebAssembly.Global;
  readonly lines: WebAssembly.Global;
  readonly malformed: WebAssembly.Global;
  readonly natted: WebAssembly.Global;
  setMaxSlots(slots: number): void;
  reset(): void;
  decode(end: number, discardFirst: number): number;
}

let conntrackDecoder: WebAssembly.Module | undefined;

/** Compiled at the first reader: `--once` and the daemon load this file with snat off too. */
function conntrackDecoderModule(): WebAssembly.Module {
  conntrackDecoder ??= new WebAssembly.Module(Buffer.from(CONNTRACK_DECODER_WASM_BASE64, 'base64'));
  return conntrackDecoder;
}

/** A slot of the table: its count (0: empty), then the key's port word and address words. */
const SLOT_WORDS = 10;

/** One counted destination, its addresses as /proc/net/tcp prints them (address.ts). */
export interface NatDestinationKey {
  readonly protocol: number;
  readonly ipv6: boolean;
  /** The NAT address's words (IPv4: the first only). */
  readonly nat: readonly [number, number, number, number];
  readonly remote: readonly [number, number, number, number];
  readonly remotePort: number;
}

export class ConntrackTableReader {
  private readonly decoder: ConntrackDecoderExports;
  /** Views of the module's memory, remade when the table's growth replaces it. */
  private memory: ArrayBuffer | undefined;
  private buffer = Buffer.alloc(0);
  private words = new Int32Array(0);

  /** `maxBytes`: larger tables fail; `maxDestinations` (a power of 2): more fail. */
  constructor(
    private readonly maxBytes = CONNTRACK_TABLE_MAX_BYTES,
    private readonly maxDestinations = CONNTRACK_MAX_DESTINATIONS,
  ) {
    this.decoder = new WebAssembly.Instance(conntrackDecoderModule())
      .exports as unknown as ConntrackDecoderExports;
    if (this.decoder.bufferBytes.value !== BUFFER_BYTES) {
      throw new Error('conntrack-decoder.wat and conntrack-table.ts disagree on the buffer size');
    }
    this.decoder.setMaxSlots(maxDestinations * 2);
    this.views();
  }

  /** Throws a SourceError naming the path when the file is missing, unreadable or too large. */
  read(path: string, readChunkBytes = Number.POSITIVE_INFINITY): ConntrackTableStats {
    const fd = openRegularFile(path);
    if (fd === undefined) throw conntrackAbsent(path);
    const limits = { maxBytes: this.maxBytes, readChunkBytes };
    return decodeFile(fd, path, limits, (readInto) => ({
      path,
      ...this.decode(readInto, path),
    }));
  }

  /** Decodes a whole table (it has no header line) from any byte source, counting anew. */
  decode(readInto: ReadInto, path = 'the conntrack table'): Omit<ConntrackTableStats, 'path'> {
    const decoder = this.decoder;
    decoder.reset();
    let bytes = 0;
    let carried = 0;
    let discarding = false;
    for (;;) {
      const read = readInto(this.buffer, carried, BUFFER_BYTES - carried);
      if (read === 0) break;
      bytes += read;
      const filled = carried + read;
      const next = decoder.decode(filled, discarding ? 1 : 0);
      if (next < 0) {
        throw new SourceError(
          `cannot count ${path}: more than ${this.maxDestinations} destinations hold NAT ports (the most counted, to bound memory)`,
        );
      }
      this.views();
      if (next > 0) discarding = false;
      carried = filled - next;
      if (carried === BUFFER_BYTES) {
        discarding = true;
        carried = 0;
      } else if (carried > 0 && next > 0) {
        this.buffer.copyWithin(0, next, filled);
      }
    }
    let lines = decoder.lines.value as number;
    let malformed = decoder.malformed.value as number;
    // A last line without its newline was cut short: never trust its fields.
    if (carried > 0 || discarding) {
      lines++;
      malformed++;
    }
    return { bytes, lines, malformed, natted: decoder.natted.value as number };
  }

  /** Destinations counted by the last decode. */
  get destinations(): number {
    return this.decoder.size.value as number;
  }

  /** Slots of the table: each holds a destination or is empty. */
  get slots(): number {
    return this.decoder.slots.value as number;
  }

  /** The flows counted in `slot`, 0 when it is empty. */
  countAt(slot: number): number {
    return this.words[slot * SLOT_WORDS] as number;
  }

  /** The destination of a slot that is not empty. */
  destinationAt(slot: number): NatDestinationKey {
    const words = this.words;
    const at = slot * SLOT_WORDS;
    const portWord = words[at + 1] as number;
    const word = (index: number) => words[at + 2 + index] as number;
    return {
      protocol: portWord >>> 17,
      ipv6: (portWord & 0x10000) !== 0,
      nat: [word(0), word(1), word(2), word(3)],
      remote: [word(4), word(5), word(6), word(7)],
      remotePort: portWord & 0xffff,
    };
  }

  private views(): void {
    const memory = this.decoder.memory.buffer;
    if (memory === this.memory) return;
    this.memory = memory;
    this.buffer = Buffer.from(memory, 0, BUFFER_BYTES);
    const table = this.decoder.table.value as number;
    this.words = new Int32Array(memory, table, (memory.byteLength - table) / 4);
  }
}
