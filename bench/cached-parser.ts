/**
 * The engine's line decoder over a table already in memory: the parser's own speed,
 * without the kernel's cost of producing the text or the read() calls.
 */
import { STATE_COUNT } from '../src/snapshot/model.js';
import { viewOf } from '../src/sources/hex.js';
import type { SocketSink, TableFamily } from '../src/sources/tcp-table.js';
import { decodeLine } from '../src/sources/tcp-table.js';

const NEWLINE = 10;

/** Decodes every line after the header into `sink`; returns how many were sockets. */
export function decodeCachedTable(bytes: Buffer, family: TableFamily, sink: SocketSink): number {
  const view = viewOf(bytes);
  let sockets = 0;
  let lineStart = bytes.indexOf(NEWLINE) + 1;
  for (
    let newline = bytes.indexOf(NEWLINE, lineStart);
    newline !== -1;
    newline = bytes.indexOf(NEWLINE, lineStart)
  ) {
    if (decodeLine(view, lineStart, newline, family, sink)) sockets++;
    lineStart = newline + 1;
  }
  return sockets;
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
