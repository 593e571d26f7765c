/**
 * What doctor's folklore-sysctls finding says, counted in a network namespace on the running
 * kernel (net/ipv4/tcp.c tcp_close, tcp_minisocks.c tcp_time_wait, tcp_ipv4.c tcp_sk_init):
 * - tcp_tw_recycle does not exist (removed in Linux 4.12);
 * - a new namespace's tcp_max_tw_buckets is half of tcp_ehash_entries (negative where the
 *   namespace shares the host's hash), the default doctor compares with;
 * - a lowered tcp_fin_timeout ends an orphaned FIN_WAIT2 that soon, while a TIME_WAIT made at
 *   the same moment keeps its fixed 60 s;
 * - past a lowered tcp_max_tw_buckets a closing connection gets no TIME_WAIT at all and
 *   TCPTimeWaitOverflow counts it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue, readNetstat } from '../../src/sources/netstat.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent, waitForSs } from '../../testkit/kernel/socket-scenario.js';

const HOST = '127.0.0.1';
const CONNECTIONS = 10;
/** Each client closes as soon as it connects (an orphan once closed). */
const then = 'close' as const;

describe.skipIf(!canRun('TIME_WAIT folklore vs the kernel', { netns: true, commands: ['ss'] }))(
  'TIME_WAIT folklore on the running kernel',
  () => {
    const lab = new NetnsLab('tfk');
    let ns = '';
    let agent: SocketAgent;
    let port = 8000;

    beforeAll(async () => {
      ns = lab.addNamespace('main');
      agent = new SocketAgent(lab, ns);
    });
    afterAll(() => lab.close());

    /** A new listener; `hold` never closes (the client stays in FIN_WAIT2), `passive` answers FIN. */
    async function listener(onAccept: 'hold' | 'passive'): Promise<number> {
      port++;
      await agent.listen({ name: `svc${port}`, host: HOST, port, onAccept });
      return port;
    }

    /** Seconds left of each TIME_WAIT toward `to`, as ss's timer shows them. */
    function timeWaitSecondsLeft(to: number): number[] {
      return lab
        .exec(ns, 'ss', ['-tanoH', 'state', 'time-wait', 'dst', `${HOST}:${to}`])
        .split('\n')
        .flatMap((line) => {
          const match = /timer:\(timewait,(\d+(?:\.\d+)?)(m?s)ec/.exec(line);
          if (match === null) return [];
          return [Number(match[1]) / (match[2] === 'ms' ? 1000 : 1)];
        });
    }

    function timeWaitOverflows(): number {
      const counters = readNetstat(`/proc/${agent.pid}`);
      return counterValue(counters, { group: 'tcpExt', field: 'TCPTimeWaitOverflow' }) ?? NaN;
    }

    it('has no tcp_tw_recycle, and defaults tcp_max_tw_buckets to half the established hash', () => {
      expect(() => lab.readSysctl(ns, 'net.ipv4.tcp_tw_recycle')).toThrow();
      const ehash = Number(lab.readSysctl(ns, 'net.ipv4.tcp_ehash_entries'));
      const buckets = Number(lab.readSysctl(ns, 'net.ipv4.tcp_max_tw_buckets'));
      expect(buckets).toBe(Math.abs(ehash) / 2);
    });

    it('a lowered tcp_fin_timeout ends orphaned FIN_WAIT2 and leaves TIME_WAIT at 60 s', async () => {
      const finTimeout = 2;
      lab.setSysctl(ns, 'net.ipv4.tcp_fin_timeout', String(finTimeout));
      const held = await listener('hold');
      const answered = await listener('passive');
      await agent.connect({
        group: 'fw2',
        host: HOST,
        port: held,
        count: CONNECTIONS,
        then,
      });
      await agent.connect({
        group: 'tw',
        host: HOST,
        port: answered,
        count: CONNECTIONS,
        then,
      });
      const started = Date.now();
      const toward = (list: { state: string; remotePort: number }[], state: string, to: number) =>
        list.filter((s) => s.state === state && s.remotePort === to).length;
      const early = await waitForSs(lab, ns, (list) =>
        toward(list, 'fin_wait2', held) === CONNECTIONS &&
        toward(list, 'time_wait', answered) === CONNECTIONS
          ? []
          : ['FIN_WAIT2 and TIME_WAIT not all there yet'],
      );
      expect(toward(early, 'time_wait', answered)).toBe(CONNECTIONS);
      const gone = await waitForSs(
        lab,
        ns,
        (list) => (toward(list, 'fin_wait2', held) === 0 ? [] : ['FIN_WAIT2 still there']),
        (finTimeout + 5) * 1000,
      );
      const elapsed = (Date.now() - started) / 1000;
      expect(elapsed).toBeLessThan(finTimeout + 5);
      // Their peers, never closed, still hold the connections open.
      expect(gone.filter((s) => s.state === 'close_wait' && s.localPort === held)).toHaveLength(
        CONNECTIONS,
      );
      const left = timeWaitSecondsLeft(answered);
      expect(left).toHaveLength(CONNECTIONS);
      for (const seconds of left) expect(seconds).toBeGreaterThan(60 - elapsed - 2);
      lab.setSysctl(ns, 'net.ipv4.tcp_fin_timeout', '60');
    });

    it('past a lowered tcp_max_tw_buckets closing connections get no TIME_WAIT', async () => {
      const limit = 4;
      const answered = await listener('passive');
      // TIME_WAIT of the test before count against the limit too.
      const before = Number(
        lab.exec(ns, 'sh', ['-c', "awk '/^TCP:/ {print $7}' /proc/net/sockstat"]).trim(),
      );
      lab.setSysctl(ns, 'net.ipv4.tcp_max_tw_buckets', String(before + limit));
      const overflows = timeWaitOverflows();
      await agent.connect({
        group: 'over',
        host: HOST,
        port: answered,
        count: CONNECTIONS,
        then,
      });
      // close() returns before the server's FIN arrives: wait until every client has it.
      await waitForSs(lab, ns, (list) => {
        const closing = list.filter(
          (s) =>
            s.remotePort === answered && ['fin_wait1', 'fin_wait2', 'closing'].includes(s.state),
        );
        return closing.length === 0 ? [] : [`${closing.length} clients still closing`];
      });
      expect(timeWaitSecondsLeft(answered)).toHaveLength(limit);
      expect(timeWaitOverflows() - overflows).toBe(CONNECTIONS - limit);
    });
  },
);
