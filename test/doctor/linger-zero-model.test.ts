/**
 * What doctor's linger-zero-aborts finding reads, counted in a network namespace: close()
 * with SO_LINGER on and a linger time of 0 resets the connection with a RST and counts it in
 * TcpExt TCPAbortOnData (tcp_close(): "Check zero linger _after_ checking for unread
 * data"); a plain close() counts nothing there. The client is a short perl program.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent } from '../../testkit/kernel/socket-scenario.js';

const HOST = '127.0.0.1';
const PORT = 9000;
const CONNECTIONS = 5;

/** CONNECTIONS connections to HOST:PORT, each closed at once, with a zero linger when LINGER is 1. */
const PERL_CLOSE = `
use strict; use warnings;
use Socket qw(AF_INET SOCK_STREAM SOL_SOCKET SO_LINGER inet_aton pack_sockaddr_in);
my ($host, $port, $count, $linger) = @ARGV;
for (1 .. $count) {
  socket(my $s, AF_INET, SOCK_STREAM, 0) or die "socket: $!";
  connect($s, pack_sockaddr_in($port, inet_aton($host))) or die "connect: $!";
  if ($linger) { setsockopt($s, SOL_SOCKET, SO_LINGER, pack('II', 1, 0)) or die "SO_LINGER: $!"; }
  close($s);
}
print "closed $count\\n";
`;

describe.skipIf(!canRun('SO_LINGER 0 vs TCPAbortOnData', { netns: true, commands: ['perl'] }))(
  'close() with a zero linger time',
  () => {
    const lab = new NetnsLab('tlz');
    afterAll(() => lab.close());

    function abortOnData(ns: string): number {
      const [names = '', values = ''] = lab
        .exec(ns, 'cat', ['/proc/net/netstat'])
        .split('\n')
        .filter((line) => line.startsWith('TcpExt:'));
      return Number(values.split(' ')[names.split(' ').indexOf('TCPAbortOnData')]);
    }

    it('counts one TCPAbortOnData per connection reset that way, none for a plain close()', async () => {
      const ns = lab.addNamespace('main');
      const agent = new SocketAgent(lab, ns);
      await agent.listen({ name: 'svc', host: HOST, port: PORT, onAccept: 'hold' });
      for (const linger of [false, true]) {
        const before = abortOnData(ns);
        const args = [
          '-e',
          PERL_CLOSE,
          HOST,
          String(PORT),
          String(CONNECTIONS),
          linger ? '1' : '0',
        ];
        expect(lab.exec(ns, 'perl', args).trim()).toBe(`closed ${CONNECTIONS}`);
        expect(abortOnData(ns) - before, `zero linger ${linger}`).toBe(linger ? CONNECTIONS : 0);
      }
    });
  },
);
