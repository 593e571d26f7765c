/** Source NAT ports held per destination and the ports usable (docs/conntrack.md). */
import type { SnatPorts } from '../snapshot/snat-accumulator.js';
import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import { defineCollector, type LabelledValue, labelled } from './collector.js';

const OTHER = 'other';

function* usedSamples(ports: SnatPorts): Iterable<LabelledValue> {
  for (const destination of ports.destinations) {
    yield labelled(destination.used, {
      nat_address: destination.natAddress,
      remote_address: destination.remoteAddress,
      remote_port: String(destination.remotePort),
      protocol: destination.protocol,
    });
  }
  if (ports.otherDestinations > 0) {
    yield labelled(ports.otherUsed, {
      nat_address: OTHER,
      remote_address: OTHER,
      remote_port: OTHER,
      protocol: OTHER,
    });
  }
}

/** '' (from the NAT rules) or a port count. */
function validateUsablePorts(value: string): string | undefined {
  if (value === '') return undefined;
  const ports = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return ports >= 1 && ports <= 65535 ? undefined : 'a port count from 1 to 65535, or empty';
}

export const snatCollector = defineCollector({
  name: 'snat',
  // Off by default: it streams the whole conntrack table, about what `cat` of it costs.
  help: 'Source NAT ports held per destination from net/nf_conntrack, and the ports the NAT rules give.',
  enabledByDefault: false,
  sources: [ENGINE_SOURCES.snat],
  flags: {
    snatTopDestinations: {
      name: 'collector.snat.top-destinations',
      kind: 'positiveInteger',
      default: 10,
      max: 10_000,
      maxReason: 'each destination adds a series',
      help: 'Destinations reported in tcpstate_snat_ports_used (most ports first); the rest are summed into "other".',
    },
    snatUsablePorts: {
      name: 'collector.snat.usable-ports',
      kind: 'string',
      default: '',
      placeholder: 'PORTS',
      validate: validateUsablePorts,
      help: 'Ports a NAT address can use toward one destination; empty: the narrowest range of the masquerade/snat rules (nft, iptables-save), else the kernel default 64512.',
    },
  },
  select: (snapshot): SnatPorts | undefined => snapshot.snat,
  metrics: [
    {
      name: 'tcpstate_snat_ports_used',
      help: 'NAT ports held toward one destination (NAT address, remote address, remote port, protocol) by source-NATed conntrack entries; the destinations with most, the rest summed into "other".',
      type: 'gauge',
      labelNames: ['nat_address', 'remote_address', 'remote_port', 'protocol'],
      values: usedSamples,
    },
    {
      name: 'tcpstate_snat_ports_used_max',
      help: 'NAT ports held by the destination holding most.',
      type: 'gauge',
      values: (ports) => [labelled(ports.usedMax)],
    },
    {
      name: 'tcpstate_snat_ports_usable',
      help: 'NAT ports a NAT address can use toward one destination; source: rule (the narrowest masquerade/snat range), kernel_default (rules without a range: 1024-65535) or flag.',
      type: 'gauge',
      labelNames: ['source'],
      values: (ports) =>
        ports.usable === undefined
          ? []
          : [labelled(ports.usable.ports, { source: ports.usable.source })],
    },
    {
      name: 'tcpstate_snat_port_headroom_ratio',
      help: '1 - tcpstate_snat_ports_used_max / tcpstate_snat_ports_usable: the share of NAT ports still free toward the worst destination.',
      type: 'gauge',
      values: (ports) =>
        ports.usable === undefined
          ? []
          : [labelled(Math.max(0, 1 - ports.usedMax / ports.usable.ports))],
    },
    {
      name: 'tcpstate_snat_table_malformed_lines',
      help: 'Lines of net/nf_conntrack skipped as malformed in the latest sample.',
      type: 'gauge',
      values: (ports) => [labelled(ports.table.malformed)],
    },
  ],
});
