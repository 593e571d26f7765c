/** The engine's line decoder over a table already in memory, for tests and the bench. */
import type {
  SocketSink,
  TableDecodeStats,
  TableFamily,
  TcpTableReader,
} from '../../src/sources/tcp-table.js';

/** Decodes `text` (header line included) through `reader`'s buffer, as read() would fill it. */
export function decodeText(
  reader: TcpTableReader,
  text: Uint8Array,
  family: TableFamily,
  sink: SocketSink,
): TableDecodeStats {
  let position = 0;
  return reader.decode(
    (buffer, offset, length) => {
      const count = Math.min(length, text.length - position);
      buffer.set(text.subarray(position, position + count), offset);
      position += count;
      return count;
    },
    family,
    sink,
  );
}
