import { describe, expect, it } from 'vitest';
import { pageData } from '../../src/server/page-data.js';
import { HISTORY_BYTES, HISTORY_CAPACITY, SampleHistory } from '../../src/server/sample-history.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import { MINIMAL_PROCFS } from '../../testkit/exporter/exporter-procfs.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';

const base = sampleProcfs({ procfsRoot: MINIMAL_PROCFS });

/** The fixture sample at `seconds`, with the TIME_WAIT counters and one state count set. */
function at(seconds: number, tw: number, recycled: number, established: number): Snapshot {
  const tables = base.sockets;
  if (tables === undefined || base.netstat === undefined) throw new Error('fixture lacks tables');
  return {
    ...base,
    timestampMs: seconds * 1000,
    sockets: {
      ...tables,
      states: { ...tables.states, ipv4: { ...tables.states.ipv4, established } },
    },
    netstat: { ...base.netstat, tcpExt: { ...base.netstat.tcpExt, TW: tw, TWRecycled: recycled } },
  };
}

describe('SampleHistory', () => {
  it('keeps HISTORY_CAPACITY samples by default, in HISTORY_BYTES of float64 columns', () => {
    const history = new SampleHistory();
    const total = HISTORY_CAPACITY + 3;
    for (let second = 1; second <= total; second++) history.record(at(second, 0, 0, second));
    const series = history.series();
    expect(history.length).toBe(HISTORY_CAPACITY);
    expect(series.time[0]).toBe(4);
    expect(series.time.at(-1)).toBe(total);
    // One column each: time, every family's states, TW, TWRecycled, used_max, usable.
    const stateColumns = Object.values(series.states).flatMap((states) => Object.keys(states));
    expect(HISTORY_BYTES).toBe(HISTORY_CAPACITY * (1 + stateColumns.length + 4) * 8);
  });

  it('keeps the newest samples, oldest first, once the ring wraps', () => {
    const history = new SampleHistory(3);
    for (let second = 1; second <= 5; second++) history.record(at(second * 5, 0, 0, second));
    const series = history.series();
    expect(history.length).toBe(3);
    expect(series.time).toEqual([15, 20, 25]);
    expect(series.states.ipv4.established).toEqual([3, 4, 5]);
  });

  it('turns the TW and TWRecycled counters into per-second rates, null at gaps and resets', () => {
    const history = new SampleHistory();
    history.record(at(0, 100, 10, 1));
    history.record(at(5, 150, 20, 1));
    const { netstat: _gone, ...noNetstat } = at(10, 0, 0, 1);
    history.record(noNetstat);
    history.record(at(15, 300, 40, 1));
    history.record(at(20, 10, 0, 1)); // counters reset (namespace recreated)
    const series = history.series();
    expect(series.timeWaitCreatedPerSecond).toEqual([null, 10, null, null, null]);
    expect(series.timeWaitReusedPerSecond).toEqual([null, 2, null, null, null]);
  });

  it('draws a failed collector as a gap, not as zero', () => {
    const history = new SampleHistory();
    const { sockets: _gone, ...noSockets } = base;
    history.record(noSockets);
    expect(history.series().states.ipv6.listen).toEqual([null]);
    expect(history.series().ephemeralUsable).toEqual([null]);
  });
});

describe('pageData', () => {
  const inputs = {
    version: '1.2.3',
    telemetryPath: '/metrics',
    intervalSeconds: 5,
    historyCapacity: HISTORY_CAPACITY,
    flags: {},
    collectors: {
      sockets: true,
      ports: true,
      ephemeral: true,
      sockstat: true,
      netstat: true,
      sysctl: false,
      netns: false,
      conntrack: false,
      snat: false,
      'connect-errors': false,
    },
    history: new SampleHistory().series(),
  };

  it('gives each destination its headroom and the connect() rate it sustains', () => {
    const ephemeral = base.sockets?.ephemeral;
    if (ephemeral === undefined) throw new Error('fixture lacks ephemeral figures');
    const destination = { localAddress: '10.0.0.1', remoteAddress: '10.0.0.2', remotePort: 9000 };
    const snapshot: Snapshot = {
      ...base,
      sockets: {
        ...(base.sockets as NonNullable<Snapshot['sockets']>),
        ephemeral: {
          ...ephemeral,
          usable: 1000,
          destinations: [
            { ...destination, used: 750, timeWait: 0, holdSeconds: 1 },
            { ...destination, remotePort: 8080, used: 10, timeWait: 8, holdSeconds: 60 },
          ],
        },
      },
    };
    const data = pageData({ ...inputs, snapshot });
    const [plain, detailed] = data.ephemeral?.destinations ?? [];
    expect(plain).toEqual({
      ...destination,
      used: 750,
      headroomRatio: 0.25,
      timeWait: 0,
      holdSeconds: 1,
      sustainedConnectsPerSecond: 1000,
    });
    expect(detailed?.sustainedConnectsPerSecond).toBeCloseTo(1000 / 60);
    expect(detailed?.timeWait).toBe(8);
    expect(data.collectors.find((view) => view.name === 'sysctl')?.state).toBe('disabled');
  });

  it('says so before the first sample', () => {
    const data = pageData({ ...inputs, snapshot: undefined });
    expect(data.sample).toBeNull();
    expect(data.ephemeral).toBeNull();
    expect(
      data.collectors.every((view) => view.state === 'waiting' || view.state === 'disabled'),
    ).toBe(true);
  });
});
