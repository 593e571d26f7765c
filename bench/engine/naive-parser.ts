/**
 * The baseline the byte parser must beat: what one writes first in JavaScript. Reads
 * the table as a string, splits it into lines and each line on white space, and counts
 * sockets per family × state (only that: the engine also does ports and destinations).
 */
import { readFileSync } from 'node:fs';
import { STATE_COUNT } from '../../src/snapshot/model.js';

/** Adds one table's sockets to `counts` (row 0 ipv4, row 1 ipv6); returns how many. */
export function countStatesNaively(text: string, row: 0 | 1, counts: Uint32Array): number {
  let sockets = 0;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const fields = (lines[i] as string).trim().split(/\s+/);
    if (fields.length < 4) continue;
    const state = Number.parseInt(fields[3] as string, 16);
    if (state >= 1 && state <= STATE_COUNT) {
      (counts[row * STATE_COUNT + state - 1] as number)++;
      sockets++;
    }
  }
  return sockets;
}

/** Both tables of a procfs root, read whole with readFileSync as most scripts do. */
export function sampleNaively(procfsRoot: string): { counts: Uint32Array; bytes: number } {
  const counts = new Uint32Array(2 * STATE_COUNT);
  let bytes = 0;
  for (const [file, row] of [
    ['net/tcp', 0],
    ['net/tcp6', 1],
  ] as const) {
    const text = readFileSync(`${procfsRoot}/${file}`, 'latin1');
    bytes += text.length;
    countStatesNaively(text, row, counts);
  }
  return { counts, bytes };
}
