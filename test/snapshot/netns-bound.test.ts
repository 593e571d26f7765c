/**
 * Real kernel: a namespace whose sockets (inuse + tw) outnumber its usable ports, but none
 * toward one destination, is walked once; rounds after that bound it by the opens counted
 * since (net/snmp) instead of walking it, and that bound covers connect()s made meanwhile,
 * compared with `ss` in the namespace at the same moment. Once the opens could bring a
 * destination near the warning line, the round walks it again.
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedEphemeral, type NamespaceLoad } from '../../src/snapshot/netns-bound.js';
import { NetnsRoundSampler } from '../../src/snapshot/netns-round.js';
import type { NamespaceSample, NetnsRound } from '../../src/snapshot/netns-view.js';
import type { EphemeralPorts } from '../../src/snapshot/socket-tables.js';
import { NamespaceSysctlCache } from '../../src/sources/netns-sysctl-cache.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent } from '../../testkit/kernel/socket-scenario.js';
import {
  ephemeralUse,
  parsePortRange,
  parseSs,
  type SsSocket,
  ssInNamespace,
} from '../../testkit/kernel/ss-oracle.js';

const PEER = '198.18.7.2';
const SERVICE_PORT = 9000;
/** 200 usable ports, none of which the steady sockets (opened before it was set) hold. */
const RANGE = '61000 61199';
const STEADY = 150;

describe('boundedEphemeral', () => {
  const walked: EphemeralPorts = {
    rangeLow: 61000,
    rangeHigh: 61199,
    usable: 200,
    usedMax: 10,
    held: 30,
    reuse: { twReuse: 2, twReuseDelayMs: 1000, timestamps: 1 },
    headroomRatio: 0.95,
    destinations: [],
    destinationCount: 3,
  };
  const load = (opens?: number, established?: number): NamespaceLoad => ({
    sockets: 500,
    inuse: 400,
    ...(opens === undefined ? {} : { opens }),
    ...(established === undefined ? {} : { established }),
  });

  it.each([
    ['no opens since, 2 listeners at most', load(1000, 398), 198, 10, 30],
    ['7 opens since: 7 more ports, 7 more possible listeners', load(1007, 398), 191, 17, 37],
    ['the opens went backwards: inuse + tw alone', load(999, 398), 200, 200, 200],
    ['no CurrEstab: inuse + tw alone', load(1000), 200, 200, 200],
    ['no opens: inuse + tw alone', load(undefined, 398), 200, 200, 200],
  ])('%s', (_case, now, usable, usedMax, held) => {
    const bound = boundedEphemeral(walked, 1000, now);
    expect(bound).toMatchObject({ usable, usedMax, held, destinationCount: 3 });
    expect(bound.headroomRatio).toBeCloseTo(1 - usedMax / usable, 9);
  });

  it('keeps inuse + tw when it is the tighter bound', () => {
    const few = { sockets: 12, inuse: 12, opens: 1100, established: 0 };
    expect(boundedEphemeral(walked, 1000, few)).toMatchObject({ usable: 200, usedMax: 12 });
  });
});

describe.skipIf(
  !canRun('netns bound real-kernel tests', { netns: true, commands: ['ss', 'nsenter'] }),
)('a round that does not walk a busy namespace', () => {
  const lab = new NetnsLab('nsb');
  const sysctls = new NamespaceSysctlCache({ refreshMs: 60_000 });
  let busy = '';
  let agent: SocketAgent | undefined;

  beforeAll(async () => {
    busy = lab.addNamespace('busy');
    const peer = lab.addNamespace('peer');
    lab.link(
      { ns: busy, device: 'veth0', addresses: ['198.18.7.1/24'] },
      { ns: peer, device: 'veth0', addresses: [`${PEER}/24`] },
    );
    // The peer accepts in its own namespace: the busy one counts only its connect()s.
    const peerAgent = new SocketAgent(lab, peer);
    await peerAgent.listen({ name: 'svc', host: PEER, port: SERVICE_PORT, onAccept: 'hold' });
    agent = new SocketAgent(lab, busy);
    await agent.listen({ name: 'local', host: '127.0.0.1', port: SERVICE_PORT, onAccept: 'hold' });
    const then = 'hold';
    await agent.connect({
      group: 'steady',
      host: '127.0.0.1',
      port: SERVICE_PORT,
      count: STEADY,
      then,
    });
    lab.setSysctl(busy, 'net.ipv4.ip_local_port_range', RANGE);
  }, 120_000);

  afterAll(async () => {
    sysctls.close();
    await lab.close();
  });

  function find(round: NetnsRound): NamespaceSample {
    const inode = statSync(`/run/netns/${busy}`).ino;
    const found = round.namespaces.find((ns) => ns.inode === inode);
    if (found === undefined) throw new Error(`namespace ${busy} not in the round`);
    return found;
  }

  /** The round and `ss` in the namespace before and after it, retried until they agree. */
  async function roundWithSs(rounds: NetnsRoundSampler): Promise<[NamespaceSample, SsSocket[]]> {
    for (let attempt = 1; ; attempt++) {
      const before = ssInNamespace(lab, busy);
      const sample = find(await rounds.run());
      if (ssInNamespace(lab, busy) === before || attempt >= 5) return [sample, parseSs(before)];
    }
  }

  it('bounds it by the connect()s since its walk, never above the headroom ss shows, and walks it near the line', async () => {
    const busyAgent = agent as SocketAgent;
    const range = parsePortRange(RANGE);
    const rounds = new NetnsRoundSampler(
      {
        procfsRoot: '/proc',
        podLogsDir: '/nonexistent',
        max: 10_000,
        topDestinations: 3,
        walkMaxAgeMs: 3_600_000,
        walkUseRatio: 0.25,
      },
      sysctls,
      undefined,
      Number.POSITIVE_INFINITY,
    );
    const walked = find(await rounds.run());
    expect(walked.ephemeral).toMatchObject({ usable: 200, usedMax: 0 });
    // inuse + tw alone would allow every usable port toward one destination.
    const { ipv4, ipv6 } = walked.sockstat ?? { ipv4: {} };
    const sockets = (ipv4.inuse ?? 0) + (ipv6?.inuse ?? 0) + (ipv4.tw ?? 0);
    expect(sockets).toBeGreaterThanOrEqual(2 * STEADY + 1);
    expect(sockets).toBeGreaterThan(walked.ephemeral.usable);

    // A listener on a port of the range takes a usable port; no counter counts it, but it
    // is a socket beyond CurrEstab. Nothing opened since: not walked again.
    await busyAgent.listen({ name: 'inrange', host: '198.18.7.1', port: 61100, onAccept: 'hold' });
    const [idle, idleSs] = await roundWithSs(rounds);
    expect(idle.walkTimestampMs).toBe(walked.walkTimestampMs);
    expect(ephemeralUse(idleSs, range, []).usable).toBe(199);
    expect(idle.ephemeral.usable).toBeLessThanOrEqual(199);

    // connect()s toward one destination, each on a port of the range: bounded, not walked.
    const then = 'hold';
    for (const [count, walks] of [
      [12, false],
      [45, true],
    ] as const) {
      const group = `out${count}`;
      await busyAgent.connect({ group, host: PEER, port: SERVICE_PORT, count, then });
      const [sample, ss] = await roundWithSs(rounds);
      const truth = ephemeralUse(ss, range, []);
      const toPeer = ss.filter((s) => s.remoteAddress === PEER && s.localPort >= range.low).length;
      expect(truth.usedMax, 'ss sees the connect()s').toBe(toPeer);
      expect(sample.walkTimestampMs > walked.walkTimestampMs, `walked after ${count}`).toBe(walks);
      expect(sample.ephemeral.usedMax).toBeGreaterThanOrEqual(truth.usedMax);
      expect(sample.ephemeral.held).toBeGreaterThanOrEqual(toPeer);
      expect(sample.ephemeral.usable).toBeLessThanOrEqual(truth.usable);
      expect(sample.ephemeral.usable - sample.ephemeral.usedMax).toBeLessThanOrEqual(
        truth.usable - truth.usedMax,
      );
      expect(sample.ephemeral.headroomRatio).toBeLessThanOrEqual(1 - truth.usedMax / truth.usable);
      // A walk exports the truth; a bound still tells the connect()s from the steady sockets.
      if (walks) expect(sample.ephemeral.usedMax).toBe(truth.usedMax);
      else expect(sample.ephemeral.usedMax).toBeLessThan(walked.ephemeral.usable / 4);
    }
  }, 180_000);
});
