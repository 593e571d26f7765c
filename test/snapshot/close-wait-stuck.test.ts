/**
 * Stuck CLOSE_WAIT against a real kernel: sockets whose peer closed while the program keeps
 * them, inbound (on a listening port, over tcp) and outbound (toward a remote port, over
 * tcp6), sampled by one engine across samples through /proc/<pid> of a process in the
 * namespace, and compared with `ss -tanHe` (netlink) taken around each sample.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SocketTables } from '../../src/snapshot/model.js';
import { createSampler, type Sampler } from '../../src/snapshot/sample.js';
import { type SocketSink, TcpTableReader } from '../../src/sources/tcp-table.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent, waitForSs } from '../../testkit/kernel/socket-scenario.js';
import { parseSs, type SsSocket } from '../../testkit/kernel/ss-oracle.js';

const STUCK_AFTER_MS = 1500;
const SERVICE_PORT = 8080;
const UPSTREAM_PORT = 9000;

interface CloseWait {
  readonly key: string;
  readonly socket: SsSocket;
  readonly inode: number;
}

/** CLOSE_WAIT sockets of `ss -tanHe` with their inode, keyed by 4-tuple. */
function ssCloseWait(lab: NetnsLab, ns: string): Map<string, CloseWait> {
  const result = new Map<string, CloseWait>();
  for (const line of lab.exec(ns, 'ss', ['-tanHe']).split('\n')) {
    if (!line.startsWith('CLOSE-WAIT')) continue;
    const [socket] = parseSs(line.replace(/\s+(uid|ino|sk|cgroup):.*$/, ''));
    const inode = /\bino:(\d+)/.exec(line)?.[1];
    if (socket === undefined || inode === undefined) throw new Error(`unexpected ss line ${line}`);
    const key = `${socket.localAddress}:${socket.localPort} ${socket.remoteAddress}:${socket.remotePort}`;
    result.set(key, { key, socket, inode: Number(inode) });
  }
  return result;
}

/** What the engine should report: the sockets ss showed in CLOSE_WAIT at both moments. */
function expectedStuck(
  since: Map<string, CloseWait>,
  now: Map<string, CloseWait>,
  listening: ReadonlySet<number>,
): Pick<NonNullable<SocketTables['closeWaitStuck']>, 'inbound' | 'outbound'> {
  const inbound = new Map<number, number>();
  const outbound = new Map<number, number>();
  for (const { key, socket } of now.values()) {
    if (!since.has(key)) continue;
    if (listening.has(socket.localPort)) {
      inbound.set(socket.localPort, (inbound.get(socket.localPort) ?? 0) + 1);
    } else {
      outbound.set(socket.remotePort, (outbound.get(socket.remotePort) ?? 0) + 1);
    }
  }
  const rows = (counts: Map<number, number>) =>
    [...counts].map(([port, count]) => ({ port, count })).sort((a, b) => b.count - a.count);
  return { inbound: rows(inbound), outbound: rows(outbound) };
}

/** Inodes the table reader hands over for CLOSE_WAIT lines of both tables. */
function decodedCloseWaitInodes(procfsRoot: string): number[] {
  const inodes: number[] = [];
  const sink: SocketSink = {
    addIpv4: (state, _lp, _rp, _l, _r, _first, second) => {
      if (state === 7) inodes.push(second >>> 0);
    },
    addIpv6: (state, _lp, _rp, _words, _at, _first, second) => {
      if (state === 7) inodes.push(second >>> 0);
    },
  };
  const reader = new TcpTableReader();
  reader.read(`${procfsRoot}/net/tcp`, 'ipv4', sink);
  reader.read(`${procfsRoot}/net/tcp6`, 'ipv6', sink);
  return inodes.sort((a, b) => a - b);
}

/** Connections kept open by their client (which keeps its side when the server closes). */
function held(group: string, host: string, port: number, count: number) {
  const then = 'hold' as const;
  return { group, host, port, count, then };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!canRun('stuck CLOSE_WAIT vs ss', { netns: true, commands: ['ss'] }))(
  'stuck CLOSE_WAIT in a real namespace',
  () => {
    let lab: NetnsLab;
    let ns: string;
    let agent: SocketAgent;
    let sampler: Sampler;
    let procfsRoot: string;

    const closeWaitCount = (want: number) => (sockets: SsSocket[]) => {
      const count = sockets.filter((s) => s.state === 'close_wait').length;
      return count === want ? [] : [`${count} CLOSE-WAIT, want ${want}`];
    };

    beforeAll(async () => {
      lab = new NetnsLab('tcw');
      ns = lab.addNamespace('main');
      agent = new SocketAgent(lab, ns);
      await agent.listen({ name: 'svc', host: '127.0.0.1', port: SERVICE_PORT, onAccept: 'hold' });
      await agent.listen({ name: 'up', host: '::1', port: UPSTREAM_PORT, onAccept: 'hold' });
      procfsRoot = `/proc/${agent.pid}`;
      sampler = createSampler({
        procfsRoot,
        sources: {
          sockets: true,
          sockstat: false,
          netstat: false,
          sysctl: false,
          conntrack: false,
          snat: false,
          udp: false,
        },
        maxListenPorts: 64,
        topRemotePorts: 20,
        topDestinations: 10,
        snatTopDestinations: 1,
        snatUsablePorts: '',
        closeWaitStuckAfter: STUCK_AFTER_MS,
      });
    });

    afterAll(async () => {
      await lab?.close();
    });

    it('counts sockets seen in CLOSE_WAIT for the whole duration, by direction and port', async () => {
      // Inbound: clients half-close, the service keeps its side (CLOSE_WAIT on 8080).
      await agent.connect(held('in-old', '127.0.0.1', SERVICE_PORT, 3));
      await agent.end({ group: 'in-old' });
      // Outbound: the upstream half-closes, our clients keep their side (CLOSE_WAIT to 9000).
      await agent.connect(held('out-old', '::1', UPSTREAM_PORT, 2));
      await agent.end({ group: 'up' });
      await waitForSs(lab, ns, closeWaitCount(5));

      const first = ssCloseWait(lab, ns);
      // The inode the decoder reads is the one netlink gives for the same sockets.
      expect(decodedCloseWaitInodes(procfsRoot)).toEqual(
        [...first.values()].map((entry) => entry.inode).sort((a, b) => a - b),
      );
      const started = performance.now();
      const seen = sampler.sample().sockets;
      expect(seen?.closeWaitStuck).toEqual({ afterMs: STUCK_AFTER_MS, inbound: [], outbound: [] });

      // Young ones: in CLOSE_WAIT, but not for the whole duration.
      await agent.connect(held('in-young', '127.0.0.1', SERVICE_PORT, 2));
      await agent.end({ group: 'in-young' });
      await waitForSs(lab, ns, closeWaitCount(7));
      await sleep(Math.max(0, STUCK_AFTER_MS - (performance.now() - started)) + 50);

      const before = ssCloseWait(lab, ns);
      const later = sampler.sample().sockets;
      const after = ssCloseWait(lab, ns);
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      const listening = new Set(later?.listeningPorts);
      const expected = expectedStuck(first, after, listening);
      expect(later?.closeWaitStuck).toEqual({ afterMs: STUCK_AFTER_MS, ...expected });
      // Not every CLOSE_WAIT is stuck: the plain count keeps them all.
      const stuckTotal = [...expected.inbound, ...expected.outbound].reduce(
        (n, r) => n + r.count,
        0,
      );
      const plain = (later?.states.ipv4.close_wait ?? 0) + (later?.states.ipv6.close_wait ?? 0);
      expect(plain).toBe(after.size);
      expect(stuckTotal).toBeGreaterThan(0);
      expect(stuckTotal).toBeLessThan(plain);
      expect(expected.outbound.map((row) => row.port)).toEqual([UPSTREAM_PORT]);

      // The outbound program finally closes: those sockets leave the count at once.
      await agent.drop('out-old');
      await waitForSs(lab, ns, closeWaitCount(5));
      const closed = ssCloseWait(lab, ns);
      const last = sampler.sample().sockets;
      expect(last?.closeWaitStuck).toEqual({
        afterMs: STUCK_AFTER_MS,
        ...expectedStuck(first, closed, listening),
      });
      expect(last?.closeWaitStuck?.outbound).toEqual([]);
    });
  },
);
