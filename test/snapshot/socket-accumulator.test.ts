/**
 * The accumulator keeps every socket in columns that grow while a table is walked, and
 * classifies them only at the end: a listener seen last must still claim the sockets on
 * its port that came before it, however many column growths ago.
 */
import { describe, expect, it } from 'vitest';
import { TCP_STATES } from '../../src/snapshot/model.js';
import { SocketAccumulator } from '../../src/snapshot/socket-accumulator.js';
import { ephemeralSettings } from '../../testkit/kernel/ephemeral-settings.js';

const state = (name: (typeof TCP_STATES)[number]) => TCP_STATES.indexOf(name);
const LIMITS = { maxListenPorts: 64, topRemotePorts: 20, topDestinations: 10 };
const RANGE = { low: 32768, high: 60999 };
const LOCAL = 0x0100007f;
const REMOTE = 0x0200007f;
/** `when` of a TIME_WAIT just begun: 60 s of 10 ms ticks left, too young to reuse. */
const YOUNG_TIME_WAIT_TICKS = 6000;

describe('SocketAccumulator', () => {
  it('classifies sockets stored before several column growths by a listener seen last', () => {
    const accumulator = new SocketAccumulator();
    accumulator.begin(ephemeralSettings(RANGE));
    const sockets = 100_000;
    // Alternately: a socket on the future listener's port 40000, and an outbound one
    // from an ephemeral port toward remote port 443 + (i % 3).
    for (let i = 0; i < sockets; i++) {
      if (i % 2 === 0) {
        accumulator.addIpv4(state('established'), 40000, 50000 + (i % 1000), LOCAL, REMOTE, 0, 0);
      } else {
        accumulator.addIpv4(
          state('time_wait'),
          33000 + (i % 20000),
          443 + (i % 3),
          LOCAL,
          REMOTE,
          3,
          YOUNG_TIME_WAIT_TICKS,
        );
      }
    }
    accumulator.addIpv4(state('listen'), 40000, 0, 0, 0, 0, 0);
    const aggregates = accumulator.finish(LIMITS);

    expect(aggregates.listeningPorts).toEqual([40000]);
    const [inbound] = aggregates.listenPorts;
    expect(inbound?.port).toBe(40000);
    expect(inbound?.states.established).toBe(sockets / 2);
    const outbound = new Map(aggregates.remotePorts.map((row) => [row.port, row.states]));
    let outboundTimeWait = 0;
    for (const port of [443, 444, 445]) outboundTimeWait += outbound.get(port)?.time_wait ?? 0;
    expect(outboundTimeWait).toBe(sockets / 2);
    expect(outbound.has(50000)).toBe(false);
    // Port 40000 lies in the ephemeral range but listens: its sockets hold no ephemeral port.
    expect(aggregates.ephemeral?.usedMax).toBe(Math.ceil(sockets / 2 / 3));
    expect(aggregates.ephemeral?.destinations.map((destination) => destination.used)).toEqual([
      16667, 16667, 16666,
    ]);
  });

  it('counts stuck CLOSE_WAIT inbound by listening port and outbound by remote port, bounded', () => {
    const accumulator = new SocketAccumulator();
    const limits = { ...LIMITS, maxListenPorts: 1, topRemotePorts: 1, closeWaitStuckAfter: 100 };
    let inode = 1;
    /** Inbound on 80 ×3 and 8080 ×1, outbound to 5432 ×2 and 6379 ×1, plus `young` more on 80. */
    const walk = (nowMs: number, young: number) => {
      accumulator.begin(ephemeralSettings(RANGE));
      const add = (localPort: number, remotePort: number, inodeOf: number) =>
        accumulator.addIpv4(state('close_wait'), localPort, remotePort, LOCAL, REMOTE, 0, inodeOf);
      for (let i = 0; i < 3; i++) add(80, 50000 + i, 100 + i);
      add(8080, 50010, 110);
      accumulator.addIpv6(state('close_wait'), 40001, 5432, new Int32Array(8), 0, 0, 120);
      add(40002, 5432, 121);
      add(40003, 6379, 122);
      // Same ports, but not CLOSE_WAIT: never stuck.
      accumulator.addIpv4(state('established'), 40004, 6379, LOCAL, REMOTE, 0, 0);
      for (let i = 0; i < young; i++) add(80, 51000 + i, 1000 + inode++);
      accumulator.addIpv6(state('listen'), 8080, 0, new Int32Array(8), 0, 0, 0);
      accumulator.addIpv4(state('listen'), 80, 0, 0, 0, 0, 0);
      return accumulator.finish(limits, nowMs);
    };
    expect(walk(0, 0).closeWaitStuck).toEqual({ afterMs: 100, inbound: [], outbound: [] });
    const later = walk(100, 2);
    expect(later.closeWaitStuck).toEqual({
      afterMs: 100,
      inbound: [
        { port: 80, count: 3 },
        { port: 'other', count: 1 },
      ],
      outbound: [
        { port: 5432, count: 2 },
        { port: 'other', count: 1 },
      ],
    });
    // The plain count still has every CLOSE_WAIT.
    expect(later.states.ipv4.close_wait + later.states.ipv6.close_wait).toBe(9);
    // Without the duration nothing is followed.
    accumulator.begin(ephemeralSettings(RANGE));
    expect(accumulator.finish(LIMITS, 1000).closeWaitStuck).toBeUndefined();
  });
});
