/**
 * The bench compares the engine with a naive split parser; the comparison only means
 * something if both count the same sockets. Checked on a synthetic table against the
 * generator's own tally, and through the bench's cached-text path too.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCachedTable } from '../../bench/engine/cached-parser.js';
import { countStatesNaively, sampleNaively } from '../../bench/engine/naive-parser.js';
import { type SyntheticTable, writeSyntheticProcfs } from '../../bench/lib/synthetic-table.js';
import { FAMILIES, STATE_COUNT, TCP_STATES } from '../../src/snapshot/model.js';
import { SocketAccumulator } from '../../src/snapshot/socket-accumulator.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import { ephemeralSettings } from '../../testkit/kernel/ephemeral-settings.js';

/** Family × state counts of a snapshot, in the generator's row layout. */
function engineCounts(root: string): Uint32Array {
  const states = sampleProcfs({ procfsRoot: root }).sockets?.states;
  if (states === undefined) throw new Error('the engine read no sockets');
  return Uint32Array.from(
    FAMILIES.flatMap((family) => TCP_STATES.map((state) => states[family][state])),
  );
}

describe('bench parsers on a synthetic table', () => {
  let dir: string;
  let table: SyntheticTable;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsb-test-'));
    table = writeSyntheticProcfs(dir, 5_000);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes both families and the states the mix promises', () => {
    const ipv4 = table.counts.slice(0, STATE_COUNT).reduce((a, b) => a + b, 0);
    const ipv6 = table.counts.slice(STATE_COUNT).reduce((a, b) => a + b, 0);
    expect(ipv4 + ipv6).toBe(table.sockets);
    expect(ipv6).toBeGreaterThan(table.sockets / 4);
    for (const state of ['established', 'time_wait', 'listen', 'syn_recv'] as const) {
      const index = TCP_STATES.indexOf(state);
      expect(table.counts[index]).toBeGreaterThan(0);
      expect(table.counts[STATE_COUNT + index]).toBeGreaterThan(0);
    }
  });

  it('the engine counts exactly what was written', () => {
    expect([...engineCounts(dir)]).toEqual([...table.counts]);
  });

  it('the naive parser counts the same, from the files and from memory', () => {
    const fromFiles = sampleNaively(dir);
    expect([...fromFiles.counts]).toEqual([...table.counts]);
    expect(fromFiles.bytes).toBe(table.bytes);
    const fromMemory = new Uint32Array(2 * STATE_COUNT);
    const ipv4 = countStatesNaively(readFileSync(join(dir, 'net/tcp'), 'latin1'), 0, fromMemory);
    const ipv6 = countStatesNaively(readFileSync(join(dir, 'net/tcp6'), 'latin1'), 1, fromMemory);
    expect(ipv4 + ipv6).toBe(table.sockets);
    expect([...fromMemory]).toEqual([...table.counts]);
  });

  it('the cached-text path decodes every line into the accumulator', () => {
    const accumulator = new SocketAccumulator();
    accumulator.begin(ephemeralSettings());
    const decoded =
      decodeCachedTable(readFileSync(join(dir, 'net/tcp')), 'ipv4', accumulator) +
      decodeCachedTable(readFileSync(join(dir, 'net/tcp6')), 'ipv6', accumulator);
    expect(decoded).toBe(table.sockets);
    const aggregates = accumulator.finish({
      maxListenPorts: 64,
      topRemotePorts: 20,
      topDestinations: 10,
    });
    expect(aggregates.states.ipv6.time_wait).toBe(
      table.counts[STATE_COUNT + TCP_STATES.indexOf('time_wait')],
    );
    expect(aggregates.listeningPorts).toEqual([80, 443, 8080]);
  });
});
