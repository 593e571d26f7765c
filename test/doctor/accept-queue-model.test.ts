/**
 * SYN cookies and a full accept queue, counted in a network namespace (tcp_conn_request in
 * net/ipv4/tcp_input.c checks the accept queue before any cookie): a listener that never
 * accept()s fills its accept queue (backlog + 1 connections), and every SYN after that is
 * dropped and counted in ListenOverflows, with tcp_syncookies 1 or 2 alike; no cookie is
 * sent for them (with 2, only the SYNs that got in had one), and their clients stay in SYN_SENT. Cookies relieve a full SYN
 * queue (syn-queue-model.test.ts), never a full accept queue: a listener's program must accept
 * faster or listen() with a larger backlog. The listener is a short perl program.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue, type NetstatCounters, readNetstat } from '../../src/sources/netstat.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent, waitForSs } from '../../testkit/kernel/socket-scenario.js';

const HOST = '127.0.0.1';
const BACKLOG = 2;
const CLIENTS = 8;
/** The clients only send their SYNs: the test reads where they end up. */
const then = 'pending' as const;

/** Listens on 127.0.0.1:PORT with BACKLOG and never accepts; prints "ready". */
const PERL_LISTEN = `
use strict; use warnings;
use Socket qw(AF_INET SOCK_STREAM SOL_SOCKET SO_REUSEADDR INADDR_LOOPBACK pack_sockaddr_in);
my ($port, $backlog) = @ARGV;
socket(my $l, AF_INET, SOCK_STREAM, 0) or die "socket: $!";
setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1) or die "setsockopt: $!";
bind($l, pack_sockaddr_in($port, INADDR_LOOPBACK)) or die "bind: $!";
listen($l, $backlog) or die "listen: $!";
$| = 1; print "ready\\n"; sleep 120;
`;

describe.skipIf(!canRun('accept queue vs SYN cookies', { netns: true, commands: ['ss', 'perl'] }))(
  'a full accept queue',
  () => {
    const lab = new NetnsLab('taq');
    let ns = '';
    let agent: SocketAgent;
    let port = 7000;

    beforeAll(() => {
      ns = lab.addNamespace('main');
      agent = new SocketAgent(lab, ns);
    });
    afterAll(() => lab.close());

    const read = (counters: NetstatCounters, field: 'ListenOverflows' | 'SyncookiesSent') =>
      counterValue(counters, { group: 'tcpExt', field }) ?? Number.NaN;
    /** The listener's accept queue: ss's Recv-Q on a LISTEN line. */
    const acceptQueue = () =>
      Number(
        lab
          .exec(ns, 'ss', ['-ltnH', 'sport', `= :${port}`])
          .trim()
          .split(/\s+/)[1],
      );

    it.each(['1', '2'])(
      'drops SYNs with tcp_syncookies=%s, and sends them no cookie',
      async (cookies) => {
        port++;
        lab.setSysctl(ns, 'net.ipv4.tcp_syncookies', cookies);
        const listener = lab.spawn(ns, 'perl', ['-e', PERL_LISTEN, String(port), String(BACKLOG)]);
        await new Promise<void>((resolve, reject) => {
          listener.stdout?.once('data', () => resolve());
          listener.once('exit', (code) => reject(new Error(`perl listener exited ${code}`)));
        });
        const before = readNetstat(`/proc/${agent.pid}`);
        await agent.connect({ group: `c${port}`, host: HOST, port, count: CLIENTS, then });
        const full = BACKLOG + 1;
        const sockets = await waitForSs(lab, ns, (list) => {
          const queued = acceptQueue();
          const waiting = list.filter(
            (s) => s.state === 'syn_sent' && s.remotePort === port,
          ).length;
          return queued === full && waiting === CLIENTS - full
            ? []
            : [`accept queue ${queued} of ${full}, ${waiting} clients in SYN_SENT`];
        });
        expect(sockets.filter((s) => s.state === 'syn_sent' && s.remotePort === port)).toHaveLength(
          CLIENTS - full,
        );
        const after = readNetstat(`/proc/${agent.pid}`);
        const rise = (field: 'ListenOverflows' | 'SyncookiesSent') =>
          read(after, field) - read(before, field);
        expect(rise('ListenOverflows')).toBeGreaterThanOrEqual(CLIENTS - full);
        // tcp_syncookies=2 answers every SYN it takes with a cookie: only those that got in.
        expect(rise('SyncookiesSent')).toBe(cookies === '2' ? full : 0);
        await agent.drop(`c${port}`);
        listener.kill('SIGKILL');
      },
    );
  },
);
