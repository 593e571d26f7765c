/**
 * What clients that bind() before connect() do to ports, counted in network namespaces with
 * a 20-port range (docs/connect-model.md, rules 11-13). Node's client sockets given a local
 * address bind with SO_REUSEADDR set (libuv's uv__tcp_bind always sets it); the
 * IP_BIND_ADDRESS_NO_PORT client is a short perl program (perl is in CI's packages).
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent, waitForSs } from '../../testkit/kernel/socket-scenario.js';

const HOST = '127.0.0.1';
const LOW = 40000;
const RANGE_SIZE = 20;
/** Listeners outside the range: two destinations, and one that closes after the client. */
const FIRST = 9000;
const SECOND = 9001;
const PASSIVE = 9002;
const BIND_FIRST = 10;

/**
 * bind(HOST, 0) then connect(HOST:PORT), MAX times or until one fails, each held; with
 * IP_BIND_ADDRESS_NO_PORT (24 in linux/in.h) when NO_PORT is 1. Prints `held N ERROR`, then
 * holds the sockets until stdin closes.
 */
const PERL_BIND_FIRST = `
use strict; use warnings;
use Socket qw(AF_INET SOCK_STREAM IPPROTO_IP inet_aton pack_sockaddr_in);
my ($host, $port, $max, $noPort) = @ARGV;
my @held; my $error = 'max';
for (1 .. $max) {
  socket(my $s, AF_INET, SOCK_STREAM, 0) or die "socket: $!";
  if ($noPort) { setsockopt($s, IPPROTO_IP, 24, 1) or die "IP_BIND_ADDRESS_NO_PORT: $!"; }
  unless (bind($s, pack_sockaddr_in(0, inet_aton($host)))) { $error = "bind $!"; last; }
  unless (connect($s, pack_sockaddr_in($port, inet_aton($host)))) { $error = "connect $!"; last; }
  push @held, $s;
}
$| = 1;
print 'held ', scalar(@held), " $error\\n";
my $wait = <STDIN>;
`;

function perlBindFirst(lab: NetnsLab, ns: string, port: number, noPort: boolean) {
  const child = lab.spawn(ns, 'perl', [
    '-e',
    PERL_BIND_FIRST,
    HOST,
    String(port),
    String(BIND_FIRST),
    noPort ? '1' : '0',
  ]);
  return new Promise<{ child: ChildProcess; held: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the perl client said nothing')), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => reject(new Error(`perl: ${chunk}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      clearTimeout(timer);
      const match = /^held (\d+) max$/.exec(line);
      if (match === null) reject(new Error(`perl: ${line}`));
      else resolve({ child, held: Number(match[1]) });
    });
  });
}

describe.skipIf(
  !canRun('bind-first rules vs counted connect()s', { netns: true, commands: ['ss', 'perl'] }),
)('clients that bind() before connect()', () => {
  const lab = new NetnsLab('tbf');
  let caseNumber = 0;

  /** A namespace with the 20-port range and an agent listening on the three ports. */
  async function namespaceWithListeners(): Promise<{ ns: string; agent: SocketAgent }> {
    const ns = lab.addNamespace(`c${++caseNumber}`);
    lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', `${LOW} ${LOW + RANGE_SIZE - 1}`);
    const agent = new SocketAgent(lab, ns);
    for (const [name, port] of [
      ['first', FIRST],
      ['second', SECOND],
    ] as const) {
      await agent.listen({ name, host: HOST, port, onAccept: 'hold' });
    }
    await agent.listen({ name: 'passive', host: HOST, port: PASSIVE, onAccept: 'passive' });
    return { ns, agent };
  }

  beforeAll(() => {
    expect(RANGE_SIZE % 2).toBe(0); // an even range: connect() examines every port
  });
  afterAll(() => lab.close());

  it('bind(ip, 0) takes its port from every destination; with IP_BIND_ADDRESS_NO_PORT it does not', async () => {
    for (const noPort of [false, true]) {
      const { ns, agent } = await namespaceWithListeners();
      const bound = await perlBindFirst(lab, ns, FIRST, noPort);
      expect(bound.held).toBe(BIND_FIRST);
      const plain = await agent.exhaust({ group: 'plain', host: HOST, port: SECOND, max: 100 });
      expect(plain.error).toBe('EADDRNOTAVAIL');
      // Without the option the bound ports are skipped toward every destination; with it the
      // port was chosen by connect() and only that 4-tuple is taken.
      expect(plain.count, `IP_BIND_ADDRESS_NO_PORT ${noPort}`).toBe(
        noPort ? RANGE_SIZE : RANGE_SIZE - bound.held,
      );
      bound.child.stdin?.end();
    }
  });

  it('SO_REUSEADDR does not let bind(ip, 0) share a port; ip_autobind_reuse=1 does, once the range is exhausted', async () => {
    const { ns, agent } = await namespaceWithListeners();
    const all = await agent.exhaust({
      group: 'all',
      host: HOST,
      port: FIRST,
      localAddress: HOST,
      max: 100,
    });
    expect(all).toEqual({ count: RANGE_SIZE, error: 'EADDRINUSE' });
    // Another destination does not help a client that must pick its port first.
    const other = await agent.exhaust({
      group: 'other',
      host: HOST,
      port: SECOND,
      localAddress: HOST,
      max: 100,
    });
    expect(other).toEqual({ count: 0, error: 'EADDRINUSE' });
    lab.setSysctl(ns, 'net.ipv4.ip_autobind_reuse', '1');
    const shared = await agent.exhaust({
      group: 'shared',
      host: HOST,
      port: SECOND,
      localAddress: HOST,
      max: RANGE_SIZE,
    });
    expect(shared.count).toBeGreaterThan(0);
  });

  it('a socket bound to its port takes over a timestamped TIME_WAIT of its 4-tuple with tcp_tw_reuse=0', async () => {
    for (const timestamps of ['1', '0']) {
      const { ns, agent } = await namespaceWithListeners();
      lab.setSysctl(ns, 'net.ipv4.tcp_tw_reuse', '0');
      lab.setSysctl(ns, 'net.ipv4.tcp_timestamps', timestamps);
      const localPort = LOW + 5;
      const tuple = (group: string, then: 'close' | 'hold') => {
        return { group, host: HOST, port: PASSIVE, localAddress: HOST, localPort, count: 1, then };
      };
      await agent.connect(tuple('old', 'close'));
      await waitForSs(lab, ns, (sockets) =>
        sockets.some((s) => s.state === 'time_wait' && s.localPort === localPort)
          ? []
          : ['no TIME_WAIT yet'],
      );
      const reused = agent.connect(tuple('new', 'hold'));
      if (timestamps === '1') await expect(reused).resolves.toBeUndefined();
      else await expect(reused).rejects.toThrow(/EADDRNOTAVAIL/);
    }
  });
});
