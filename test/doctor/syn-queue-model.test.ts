/**
 * The SYN queue rules doctor's advice rests on, counted in network namespaces: a client
 * sends SYNs to a listener whose SYN-ACKs are lost (a neighbour entry to an unused MAC), so
 * request sockets stay in its SYN queue; the server's counters are read before and after.
 * Rules (tcp_conn_request, tcp_syn_flood_action in net/ipv4/tcp_input.c):
 * - a full SYN queue (the listen backlog) counts TCPReqQFullDoCookies with tcp_syncookies
 *   on, TCPReqQFullDrop only with it off;
 * - tcp_max_syn_backlog drops SYNs (ListenDrops) only with cookies off;
 * - tcp_syncookies=2 answers every SYN with a cookie and counts each in
 *   TCPReqQFullDoCookies, full queue or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent, waitForSs } from '../../testkit/kernel/socket-scenario.js';
import type { SsSocket } from '../../testkit/kernel/ss-oracle.js';

const SERVER = '198.18.0.1';
const CLIENT = '198.18.0.2';
const SYNS = 12;
const COUNTERS = ['TCPReqQFullDoCookies', 'TCPReqQFullDrop', 'ListenDrops'] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

describe.skipIf(!canRun('SYN queue rules vs counted SYNs', { netns: true, commands: ['ss'] }))(
  'the SYN queue and its counters',
  () => {
    const lab = new NetnsLab('tsq');
    let server = '';
    let serverAgent: SocketAgent;
    let clientAgent: SocketAgent;
    let port = 8080;

    beforeAll(async () => {
      server = lab.addNamespace('srv');
      const client = lab.addNamespace('cli');
      lab.link(
        { ns: client, device: 'veth0', addresses: [`${CLIENT}/24`] },
        { ns: server, device: 'veth0', addresses: [`${SERVER}/24`] },
      );
      lab.losePeer(server, 'veth0', CLIENT);
      serverAgent = new SocketAgent(lab, server);
      clientAgent = new SocketAgent(lab, client);
    });
    afterAll(() => lab.close());

    function counters(): Counters {
      const [names = '', values = ''] = lab
        .exec(server, 'cat', ['/proc/net/netstat'])
        .split('\n')
        .filter((line) => line.startsWith('TcpExt:'));
      const byName = names.split(' ');
      const numbers = values.split(' ');
      const read = (field: string) => Number(numbers[byName.indexOf(field)]);
      return {
        TCPReqQFullDoCookies: read('TCPReqQFullDoCookies'),
        TCPReqQFullDrop: read('TCPReqQFullDrop'),
        ListenDrops: read('ListenDrops'),
      };
    }

    /**
     * `syns` SYNs to a new listener with `backlog` whose answers are lost: how the server's
     * counters rose and the request sockets it holds on that port (SYN_RECV, as ss lists them).
     * The client's sockets are closed afterwards, so their retransmissions end there.
     */
    async function synsToLostListener(
      sysctls: Readonly<Record<string, string>>,
      backlog: number,
      syns: number,
    ): Promise<{ rise: Counters; synRecv: number }> {
      port++;
      for (const [name, value] of Object.entries(sysctls)) lab.setSysctl(server, name, value);
      await serverAgent.listen({
        name: `svc${port}`,
        host: SERVER,
        port,
        backlog,
        onAccept: 'hold',
      });
      const before = counters();
      const group = `syn${port}`;
      const then = 'pending' as const;
      await clientAgent.connect({ group, host: SERVER, port, count: syns, then });
      // Every SYN has arrived once the queue and the counters account for all of them.
      const onPort = (list: SsSocket[]) =>
        list.filter((s) => s.state === 'syn_recv' && s.localPort === port).length;
      const sockets = await waitForSs(lab, server, (list) => {
        const now = counters();
        const handled =
          onPort(list) +
          now.TCPReqQFullDoCookies -
          before.TCPReqQFullDoCookies +
          now.ListenDrops -
          before.ListenDrops;
        return handled >= syns ? [] : [`${handled} of ${syns} SYNs accounted for`];
      });
      const after = counters();
      await clientAgent.drop(group);
      const rise = Object.fromEntries(
        COUNTERS.map((name) => [name, after[name] - before[name]]),
      ) as Counters;
      return { rise, synRecv: onPort(sockets) };
    }

    it('a full SYN queue counts cookies with tcp_syncookies=1 and drops only with 0', async () => {
      const backlog = 4;
      const cookies = await synsToLostListener({ 'net.ipv4.tcp_syncookies': '1' }, backlog, SYNS);
      expect(cookies.rise.TCPReqQFullDoCookies).toBeGreaterThan(0);
      expect(cookies.rise.TCPReqQFullDrop).toBe(0);
      const off = await synsToLostListener({ 'net.ipv4.tcp_syncookies': '0' }, backlog, SYNS);
      expect(off.rise.TCPReqQFullDrop).toBeGreaterThan(0);
      expect(off.rise.TCPReqQFullDoCookies).toBe(0);
      expect(off.synRecv).toBeLessThanOrEqual(backlog + 1);
    });

    it('tcp_max_syn_backlog drops SYNs only with cookies off', async () => {
      const small = { 'net.ipv4.tcp_max_syn_backlog': '8' };
      const off = await synsToLostListener({ ...small, 'net.ipv4.tcp_syncookies': '0' }, 128, SYNS);
      expect(off.rise.ListenDrops).toBeGreaterThan(0);
      expect(off.synRecv).toBeLessThan(SYNS);
      expect(off.rise.TCPReqQFullDrop).toBe(0);
      const on = await synsToLostListener({ ...small, 'net.ipv4.tcp_syncookies': '1' }, 128, SYNS);
      expect(on.rise.ListenDrops).toBe(0);
      expect(on.synRecv).toBe(SYNS);
      expect(on.rise.TCPReqQFullDoCookies).toBe(0);
    });

    it('tcp_syncookies=2 counts every SYN as a cookie, with the queue far from full', async () => {
      const always = await synsToLostListener({ 'net.ipv4.tcp_syncookies': '2' }, 128, 1);
      expect(always.rise.TCPReqQFullDoCookies).toBeGreaterThanOrEqual(1);
      expect(always.synRecv).toBe(0);
    });
  },
);
