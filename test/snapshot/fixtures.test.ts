/**
 * Captured /proc trees (scripts/capture-fixture.ts): each must sample to its golden
 * snapshot, and agree with the `ss -tanH` taken at capture time, an independent oracle
 * that reads netlink rather than /proc. `UPDATE_GOLDEN=1` rewrites the golden files.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/snapshot/model.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import {
  ephemeralUse,
  familyStateCounts,
  listenPortStates,
  parseSs,
  remotePortStates,
} from '../../testkit/kernel/ss-oracle.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const GOLDEN_NAME = 'expected-snapshot.json';

const capturedTrees = readdirSync(FIXTURES).filter((name) =>
  existsSync(join(FIXTURES, name, 'proc/net/tcp')),
);

/** The snapshot without what changes from run to run: times and absolute paths. */
function stable(snapshot: Snapshot): unknown {
  const root = snapshot.procfsRoot;
  return JSON.parse(
    JSON.stringify(snapshot, (key, value) => {
      if (key === 'timestampMs' || key === 'durationSeconds' || key === 'procfsRoot')
        return undefined;
      if (key === 'path' && typeof value === 'string') return relative(root, value);
      return value;
    }),
  );
}

describe('captured fixture trees', () => {
  it('has at least two captured trees', () => {
    expect(capturedTrees.length).toBeGreaterThanOrEqual(2);
  });

  describe.each(capturedTrees)('%s', (name) => {
    const dir = join(FIXTURES, name);
    const snapshot = sampleProcfs({ procfsRoot: join(dir, 'proc') });

    it('samples every source without error or malformed line', () => {
      for (const [source, status] of Object.entries(snapshot.sources)) {
        expect(status?.success, `${source}: ${status?.error}`).toBe(true);
      }
      expect(snapshot.sockets?.tcp.malformed).toBe(0);
      expect(snapshot.sockets?.tcp6.malformed).toBe(0);
    });

    it('matches its golden snapshot', () => {
      const goldenPath = join(dir, GOLDEN_NAME);
      const actual = stable(snapshot);
      if (process.env.UPDATE_GOLDEN === '1') {
        writeFileSync(goldenPath, `${JSON.stringify(actual, null, 2)}\n`);
      }
      expect(actual).toEqual(JSON.parse(readFileSync(goldenPath, 'utf8')));
    });

    // Every captured tree has its ss.txt (scripts/capture-fixture.ts): one missing fails here.
    it('agrees with ss -tanH taken at capture time', () => {
      const ss = parseSs(readFileSync(join(dir, 'ss.txt'), 'utf8'));
      const sockets = snapshot.sockets;
      expect(sockets?.states).toEqual(familyStateCounts(ss));
      expect(new Map(sockets?.listenPorts.map((row) => [row.port, row.states]))).toEqual(
        listenPortStates(ss),
      );
      expect(new Map(sockets?.remotePorts.map((row) => [row.port, row.states]))).toEqual(
        remotePortStates(ss),
      );
      const range = snapshot.sysctl?.portRange;
      expect(range).toBeDefined();
      const oracle = ephemeralUse(
        ss,
        range ?? { low: 0, high: 0 },
        snapshot.sysctl?.reservedPorts ?? [],
      );
      expect(sockets?.ephemeral?.usable).toBe(oracle.usable);
      expect(sockets?.ephemeral?.usedMax).toBe(oracle.usedMax);
      expect(sockets?.ephemeral?.destinationCount).toBe(oracle.destinations.length);
    });
  });
});
