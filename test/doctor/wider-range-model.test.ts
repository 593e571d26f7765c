/**
 * What doctor's "widen ip_local_port_range" advice reserves, and why, counted in a network
 * namespace (udp_lib_get_port in net/ipv4/udp.c, __inet_hash_connect in inet_hashtables.c):
 * - a UDP socket that sends or binds without a port (a DNS client, a statsd client) takes
 *   one from ip_local_port_range, never a reserved one and never one a UDP server holds, so
 *   a UDP server whose port the range covers loses it to clients while it is down, unless
 *   the port is reserved; a reserved port stays free for the server's own bind();
 * - TCP's connect() does not avoid a port a UDP server holds: the two protocols have their
 *   own ports, so the UDP servers need reserving for the UDP clients' sake;
 * - the UDP source lists the same unconnected sockets as `ss -uanH`, read at the same moment.
 * The program is a short perl script that holds its sockets while it prints both views.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUdpTable } from '../../src/sources/udp-table.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';

const LOW = 40000;
const SIZE = 20;
const SERVER_PORT = 40005;
const TCP_SERVICE = 9000;

/**
 * Args: UDP server port (0: none), UDP sockets to bind to port 0, TCP connects to 127.0.0.1.
 * Prints the UDP ports bound, the TCP local ports, then net/udp and `ss -uanH` taken while
 * every socket is still open.
 */
const PERL_PORTS = `
use strict; use warnings;
use Socket qw(AF_INET SOCK_DGRAM SOCK_STREAM SOL_SOCKET SO_REUSEADDR INADDR_ANY INADDR_LOOPBACK pack_sockaddr_in unpack_sockaddr_in);
my ($server, $udp, $tcp, $service) = @ARGV;
my @keep;
if ($server) {
  socket(my $s, AF_INET, SOCK_DGRAM, 0) or die "socket: $!";
  bind($s, pack_sockaddr_in($server, INADDR_ANY)) or die "server bind: $!";
  push @keep, $s;
}
my (@udp, @tcp);
for (1 .. $udp) {
  socket(my $c, AF_INET, SOCK_DGRAM, 0) or die "socket: $!";
  last unless bind($c, pack_sockaddr_in(0, INADDR_ANY));
  push @udp, (unpack_sockaddr_in(getsockname($c)))[0]; push @keep, $c;
}
if ($tcp) {
  socket(my $l, AF_INET, SOCK_STREAM, 0) or die "socket: $!";
  setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1) or die "setsockopt: $!";
  bind($l, pack_sockaddr_in($service, INADDR_LOOPBACK)) or die "listen bind: $!";
  listen($l, 128) or die "listen: $!"; push @keep, $l;
  for (1 .. $tcp) {
    socket(my $c, AF_INET, SOCK_STREAM, 0) or die "socket: $!";
    last unless connect($c, pack_sockaddr_in($service, INADDR_LOOPBACK));
    push @tcp, (unpack_sockaddr_in(getsockname($c)))[0]; push @keep, $c;
  }
}
print "udp @udp\\ntcp @tcp\\n---\\n";
open(my $f, '<', '/proc/net/udp') or die "net/udp: $!"; print while <$f>; close($f);
print "---\\n"; $| = 1; system('ss', '-uanH') == 0 or die "ss: $?";
`;

interface Outcome {
  readonly udp: number[];
  readonly tcp: number[];
  /** Unconnected UDP ports as the source decodes net/udp. */
  readonly sourcePorts: number[];
  /** Unconnected UDP ports as ss lists them (peer `0.0.0.0:*`). */
  readonly ssPorts: number[];
}

const numbers = (text: string) =>
  text
    .trim()
    .split(/\s+/)
    .filter((word) => word !== '')
    .map(Number)
    .sort((a, b) => a - b);

describe.skipIf(
  !canRun('UDP autobind vs ip_local_port_range', { netns: true, commands: ['perl', 'ss'] }),
)('what a wider ephemeral range must reserve', () => {
  const lab = new NetnsLab('twr');
  let ns = '';

  beforeAll(() => {
    ns = lab.addNamespace('main');
    lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', `${LOW} ${LOW + SIZE - 1}`);
  });
  afterAll(() => lab.close());

  function run(server: number, udp: number, tcp: number, reserved = ''): Outcome {
    lab.setSysctl(ns, 'net.ipv4.ip_local_reserved_ports', reserved);
    const args = ['-e', PERL_PORTS, String(server), String(udp), String(tcp), String(TCP_SERVICE)];
    const [ports = '', table = '', ss = ''] = lab.exec(ns, 'perl', args).split('---\n');
    const [udpLine = '', tcpLine = ''] = ports.split('\n');
    const fromSource = new Set<number>();
    decodeUdpTable(table, 'net/udp', fromSource);
    const ssPorts = ss
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[0] === 'UNCONN' && fields[4] === '0.0.0.0:*')
      .map((fields) => Number(fields[3]?.split(':').at(-1)));
    return {
      udp: numbers(udpLine.replace('udp', '')),
      tcp: numbers(tcpLine.replace('tcp', '')),
      sourcePorts: [...fromSource].sort((a, b) => a - b),
      ssPorts: ssPorts.sort((a, b) => a - b),
    };
  }

  const inRange = (port: number) => port >= LOW && port < LOW + SIZE;

  it('UDP clients take range ports but never a UDP server’s or a reserved one', () => {
    const held = run(SERVER_PORT, SIZE + 5, 0);
    expect(held.udp).toHaveLength(SIZE - 1);
    expect(held.udp.every(inRange)).toBe(true);
    expect(held.udp).not.toContain(SERVER_PORT);

    const reserved = run(SERVER_PORT, SIZE + 5, 0, String(LOW + 10));
    expect(reserved.udp).toHaveLength(SIZE - 2);
    expect(reserved.udp).not.toContain(LOW + 10);
  });

  it('without the server its port goes to a client, unless reserved; the server still binds it', () => {
    const down = run(0, SIZE, 0);
    expect(down.udp).toContain(SERVER_PORT);
    const kept = run(SERVER_PORT, SIZE, 0, String(SERVER_PORT));
    expect(kept.udp).toHaveLength(SIZE - 1);
    expect(kept.udp).not.toContain(SERVER_PORT);
    // The perl program died on "server bind" otherwise.
    expect(kept.sourcePorts).toContain(SERVER_PORT);
  });

  it('TCP connect() still takes a port a UDP server holds', () => {
    const both = run(SERVER_PORT, 0, SIZE + 5);
    expect(both.tcp).toHaveLength(SIZE);
    expect(both.tcp).toContain(SERVER_PORT);
  });

  it('the UDP source sees the unconnected sockets ss sees at the same moment', () => {
    const outcome = run(SERVER_PORT, 5, 0);
    expect(outcome.sourcePorts).toEqual([...outcome.udp, SERVER_PORT].sort((a, b) => a - b));
    expect(outcome.sourcePorts).toEqual(outcome.ssPorts);
  });
});
