import { describe, expect, it } from 'vitest';
import { parseNamedCounters } from '../../src/sources/netstat.js';
import { parseSockstatLine } from '../../src/sources/sockstat.js';

describe('netstat and snmp counters by name', () => {
  const netstat = [
    'TcpExt: SyncookiesSent TW TWRecycled TCPTimeWaitOverflow',
    'TcpExt: 0 812 3 0',
    'IpExt: InNoRoutes InTruncatedPkts',
    'IpExt: 0 0',
    '',
  ].join('\n');

  it('maps values to header names', () => {
    expect(parseNamedCounters(netstat, 'TcpExt')).toEqual({
      SyncookiesSent: 0,
      TW: 812,
      TWRecycled: 3,
      TCPTimeWaitOverflow: 0,
    });
  });

  it('leaves a field the kernel lacks absent, never 0', () => {
    const counters = parseNamedCounters(netstat, 'TcpExt');
    expect(counters).not.toHaveProperty('PAWSActive');
  });

  it('keeps negative values (Tcp MaxConn is -1)', () => {
    const snmp = 'Tcp: RtoAlgorithm RtoMin MaxConn ActiveOpens\nTcp: 1 200 -1 42\n';
    expect(parseNamedCounters(snmp, 'Tcp')).toEqual({
      RtoAlgorithm: 1,
      RtoMin: 200,
      MaxConn: -1,
      ActiveOpens: 42,
    });
  });

  it('does not confuse Tcp with TcpExt', () => {
    expect(parseNamedCounters(netstat, 'Tcp')).toBeUndefined();
  });

  it('rejects a value line that does not match the header', () => {
    expect(parseNamedCounters('TcpExt: A B C\nTcpExt: 1 2\n', 'TcpExt')).toBeUndefined();
  });
});

describe('sockstat', () => {
  it('reads the TCP line pairs', () => {
    const text =
      'sockets: used 120\nTCP: inuse 5 orphan 1 tw 7 alloc 9 mem 3\nUDP: inuse 1 mem 0\n';
    expect(parseSockstatLine(text, 'TCP')).toEqual({
      inuse: 5,
      orphan: 1,
      tw: 7,
      alloc: 9,
      mem: 3,
    });
  });
  it('reads TCP6 only from its own line', () => {
    expect(parseSockstatLine('TCP6: inuse 4\nUDP6: inuse 2\n', 'TCP6')).toEqual({ inuse: 4 });
    expect(parseSockstatLine('UDP6: inuse 2\n', 'TCP6')).toBeUndefined();
  });
});
