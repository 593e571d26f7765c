/** The netstat collector's families: each counter read from its own kernel field, absent without it. */
import { describe, expect, it } from 'vitest';
import { netstatCollector } from '../../src/collectors/netstat.js';
import type { NetstatCounters } from '../../src/sources/netstat.js';

const ADDED: readonly (readonly [string, keyof NetstatCounters, string])[] = [
  ['tcpstate_segments_retransmitted_total', 'tcp', 'RetransSegs'],
  ['tcpstate_resets_sent_total', 'tcp', 'OutRsts'],
  ['tcpstate_syn_retransmits_total', 'tcpExt', 'TCPSynRetrans'],
  ['tcpstate_timeouts_total', 'tcpExt', 'TCPTimeouts'],
  ['tcpstate_timeout_aborts_total', 'tcpExt', 'TCPAbortOnTimeout'],
  ['tcpstate_backlog_drops_total', 'tcpExt', 'TCPBacklogDrop'],
  ['tcpstate_receive_queue_drops_total', 'tcpExt', 'TCPRcvQDrop'],
  ['tcpstate_data_aborts_total', 'tcpExt', 'TCPAbortOnData'],
];

function family(name: string) {
  const definition = netstatCollector.metrics.find((metric) => metric.name === name);
  if (definition === undefined) throw new Error(`no family ${name}`);
  return definition;
}

describe('netstat collector', () => {
  it('reads each retransmission, reset and drop counter from its own field', () => {
    // Distinct values, and neighbours with other values, so a swapped field shows.
    const tcpExt: Record<string, number> = { TCPAbortOnClose: 999, TCPAbortOnMemory: 998 };
    const tcp: Record<string, number> = { EstabResets: 997, InSegs: 996 };
    ADDED.forEach(([, table, field], index) => {
      (table === 'tcp' ? tcp : tcpExt)[field] = 100 + index;
    });
    const counters: NetstatCounters = { tcpExt, tcp };
    ADDED.forEach(([name, table], index) => {
      const definition = family(name);
      expect(definition.type).toBe('counter');
      expect(definition.help).toContain(table === 'tcp' ? '(Tcp ' : '(TcpExt ');
      expect([...definition.values(counters)]).toEqual([{ labels: {}, value: 100 + index }]);
    });
  });

  it('leaves a counter out when the running kernel lacks its field', () => {
    const counters: NetstatCounters = { tcpExt: { TW: 1 }, tcp: { ActiveOpens: 2 } };
    for (const [name] of ADDED) expect([...family(name).values(counters)]).toEqual([]);
  });
});
