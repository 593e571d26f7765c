/** The snat families rendered from their part of a snapshot. */
import { describe, expect, it } from 'vitest';
import { snatCollector } from '../../src/collectors/snat.js';
import type { SnatPorts } from '../../src/snapshot/snat-accumulator.js';
import { renderFamilies as render } from '../../testkit/exporter/collector-render.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';

const destination = { natAddress: '198.18.2.1', remoteAddress: '198.18.2.2', protocol: 'tcp' };

const PORTS: SnatPorts = {
  table: { path: '/proc/net/nf_conntrack', bytes: 1000, lines: 12, malformed: 1, natted: 11 },
  destinations: [
    { ...destination, remotePort: 443, used: 6 },
    { ...destination, remotePort: 8080, used: 3 },
  ],
  otherDestinations: 2,
  otherUsed: 2,
  usedMax: 6,
  usable: { ports: 10, source: 'rule' },
};

describe('the snat collector', () => {
  it('shows the top destinations, the rest under other, usable with its source and the headroom', async () => {
    const body = await render(snatCollector.metrics, PORTS);
    expect(samplesOf(body, 'tcpstate_snat_ports_used')).toHaveLength(3);
    expect(
      sampleValue(body, 'tcpstate_snat_ports_used', {
        nat_address: '198.18.2.1',
        remote_address: '198.18.2.2',
        remote_port: '443',
        protocol: 'tcp',
      }),
    ).toBe(6);
    expect(
      sampleValue(body, 'tcpstate_snat_ports_used', {
        nat_address: 'other',
        remote_address: 'other',
        remote_port: 'other',
        protocol: 'other',
      }),
    ).toBe(2);
    expect(sampleValue(body, 'tcpstate_snat_ports_usable', { source: 'rule' })).toBe(10);
    expect(sampleValue(body, 'tcpstate_snat_port_headroom_ratio', {})).toBeCloseTo(0.4);
    expect(sampleValue(body, 'tcpstate_snat_table_malformed_lines', {})).toBe(1);
  });

  it('exports no usable count and no ratio when the NAT rules could not be read', async () => {
    const { usable: _usable, ...unknown } = PORTS;
    const body = await render(snatCollector.metrics, { ...unknown, usableError: 'nft failed' });
    expect(samplesOf(body, 'tcpstate_snat_ports_usable')).toEqual([]);
    expect(samplesOf(body, 'tcpstate_snat_port_headroom_ratio')).toEqual([]);
    expect(sampleValue(body, 'tcpstate_snat_ports_used_max', {})).toBe(6);
  });

  it('refuses a usable-ports flag that is not a port count', () => {
    const validate = snatCollector.flags.snatUsablePorts.validate;
    expect(validate?.('')).toBeUndefined();
    expect(validate?.('64512')).toBeUndefined();
    for (const bad of ['0', '65536', '-1', 'many']) expect(validate?.(bad)).toBeDefined();
  });
});
