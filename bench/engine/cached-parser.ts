/**
 * The engine's line decoder over a table already in memory: the parser's own speed,
 * without the kernel's cost of producing the text or the read() calls.
 */
import { STATE_COUNT } from '../../src/snapshot/model.js';
import type { SocketSink, TableFamily } from '../../src/sources/tcp-table.js';
import { TcpTableReader } from '../../src/sources/tcp-table.js';
import { decodeText } from '../../testkit/kernel/decode-text.js';

const reader = new TcpTableReader();

/**
 * Decodes every line after the header into `sink`, through the engine's decoder and
 * buffer as a sample does (copied in, as read() would write it); returns the sockets.
 */
export function decodeCachedTable(bytes: Buffer, family: TableFamily, sink: SocketSink): number {
  return decodeText(reader, bytes, family, sink).sockets;
}

/** Counts family × state (the row layout of SyntheticTable.counts), nothing more. */
export class StateCountingSink implements SocketSink {
  readonly counts = new Uint32Array(2 * STATE_COUNT);

  addIpv4(stateIndex: number): void {
    (this.counts[stateIndex] as number)++;
  }

  addIpv6(stateIndex: number): void {
    (this.counts[STATE_COUNT + stateIndex] as number)++;
  }
}
