/** Following CLOSE_WAIT sockets by inode from sample to sample, with the sampler's clock. */
import { describe, expect, it } from 'vitest';
import { CloseWaitTracker } from '../../src/snapshot/close-wait-tracker.js';

/** One sample's walk: [inode, local port, remote port] per CLOSE_WAIT socket. */
function walk(
  tracker: CloseWaitTracker,
  nowMs: number,
  afterMs: number,
  sockets: readonly (readonly [number, number, number])[],
): string[] {
  tracker.begin();
  for (const [inode, localPort, remotePort] of sockets) tracker.add(inode, localPort, remotePort);
  const stuck: string[] = [];
  tracker.finish(nowMs, afterMs, (localPort, remotePort) =>
    stuck.push(`${localPort}>${remotePort}`),
  );
  return stuck;
}

describe('CloseWaitTracker', () => {
  it('counts a socket once it has been seen in CLOSE_WAIT for the whole duration', () => {
    const tracker = new CloseWaitTracker();
    expect(walk(tracker, 0, 1000, [[11, 80, 5000]])).toEqual([]);
    // 12 first seen at 999: stuck from 1999 on.
    expect(
      walk(tracker, 999, 1000, [
        [11, 80, 5000],
        [12, 80, 5001],
      ]),
    ).toEqual([]);
    expect(
      walk(tracker, 1000, 1000, [
        [11, 80, 5000],
        [12, 80, 5001],
      ]),
    ).toEqual(['80>5000']);
    expect(
      walk(tracker, 1998, 1000, [
        [11, 80, 5000],
        [12, 80, 5001],
      ]),
    ).toEqual(['80>5000']);
    expect(
      walk(tracker, 1999, 1000, [
        [11, 80, 5000],
        [12, 80, 5001],
      ]),
    ).toEqual(['80>5000', '80>5001']);
  });

  it('forgets a socket that left CLOSE_WAIT: seen again, it starts over', () => {
    const tracker = new CloseWaitTracker();
    walk(tracker, 0, 1000, [[11, 80, 5000]]);
    expect(walk(tracker, 500, 1000, [])).toEqual([]);
    expect(walk(tracker, 1200, 1000, [[11, 80, 5000]])).toEqual([]);
    expect(walk(tracker, 2200, 1000, [[11, 80, 5000]])).toEqual(['80>5000']);
  });

  it('counts a socket the walk saw twice once, and cannot follow inode 0', () => {
    const tracker = new CloseWaitTracker();
    walk(tracker, 0, 10, [
      [7, 443, 6000],
      [0, 443, 6001],
    ]);
    expect(
      walk(tracker, 10, 10, [
        [7, 443, 6000],
        [7, 443, 6000],
        [0, 443, 6001],
      ]),
    ).toEqual(['443>6000']);
  });

  it('keeps one entry per socket of the latest walk, whatever came before', () => {
    const tracker = new CloseWaitTracker();
    for (let round = 0; round < 50; round++) {
      const sockets = Array.from(
        { length: 1000 },
        (_, i) => [round * 1000 + i + 1, 80, i] as const,
      );
      expect(walk(tracker, round, 1, sockets)).toEqual([]);
    }
    expect(tracker.followed).toBe(1000);
  });

  it('tells inodes apart across the whole unsigned range, as the decoder hands them over signed', () => {
    const tracker = new CloseWaitTracker();
    // 0xffffffff and 0x80000000 arrive as -1 and -2^31.
    const sockets = [
      [-1, 80, 1],
      [-(2 ** 31), 80, 2],
      [2 ** 31 - 1, 80, 3],
      [1, 80, 4],
    ] as const;
    walk(tracker, 0, 5, sockets);
    expect(walk(tracker, 3, 5, [sockets[0], sockets[2]])).toEqual([]);
    expect(walk(tracker, 5, 5, [sockets[0], sockets[1], sockets[2]]).sort()).toEqual([
      '80>1',
      '80>3',
    ]);
    expect(tracker.followed).toBe(3);
  });
});
