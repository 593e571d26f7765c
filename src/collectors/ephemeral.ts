/** Ephemeral-port use per destination: the connect() model of docs/connect-model.md. */
import type { Destination, EphemeralPorts } from '../snapshot/model.js';
import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import { defineCollector, type LabelledValue, labelled } from './collector.js';

export const DESTINATION_LABELS = ['local_address', 'remote_address', 'remote_port'] as const;

/** One sample per top destination of `value`. */
export function destinationSamples(
  ports: EphemeralPorts,
  value: (destination: Destination) => number,
): LabelledValue[] {
  return ports.destinations.map((destination) =>
    labelled(value(destination), {
      local_address: destination.localAddress,
      remote_address: destination.remoteAddress,
      remote_port: String(destination.remotePort),
    }),
  );
}

export const ephemeralCollector = defineCollector({
  name: 'ephemeral',
  help: 'Ephemeral port use and headroom per destination.',
  enabledByDefault: true,
  sources: [ENGINE_SOURCES.sockets],
  flags: {
    topDestinations: {
      name: 'collector.ephemeral.top-destinations',
      kind: 'positiveInteger',
      default: 10,
      max: 10_000,
      maxReason: 'each destination adds a few series',
      help: 'Destinations reported in tcpstate_ephemeral_ports_used (most used first).',
    },
  },
  select: (snapshot): EphemeralPorts | undefined => snapshot.sockets?.ephemeral,
  selectNamespace: (namespace) => namespace.ephemeral,
  missingReason: (snapshot) => snapshot.sockets?.ephemeralError,
  metrics: [
    {
      name: 'tcpstate_ephemeral_ports_usable',
      help: 'Ephemeral ports connect() examines: ip_local_port_range (without its lowest port when its size is odd) minus reserved and listening ports.',
      type: 'gauge',
      values: (ports) => [labelled(ports.usable)],
    },
    {
      name: 'tcpstate_ephemeral_ports_used',
      help: 'Ephemeral ports connect() cannot use toward one destination (local address, remote address, remote port) now: its sockets except TIME_WAIT the kernel would reuse; the destinations with most.',
      type: 'gauge',
      labelNames: DESTINATION_LABELS,
      values: (ports) => destinationSamples(ports, (destination) => destination.used),
    },
    {
      name: 'tcpstate_ephemeral_ports_used_max',
      help: "The worst destination's ports that block connect(); usable - used_max further connect()s to it succeed, then it fails with EADDRNOTAVAIL.",
      type: 'gauge',
      values: (ports) => [labelled(ports.usedMax)],
    },
    {
      name: 'tcpstate_ephemeral_ports_time_wait',
      help: 'TIME_WAIT sockets toward each destination of tcpstate_ephemeral_ports_used, reusable or not.',
      type: 'gauge',
      labelNames: DESTINATION_LABELS,
      values: (ports) => destinationSamples(ports, (destination) => destination.timeWait),
    },
    {
      name: 'tcpstate_ephemeral_port_hold_seconds',
      help: 'How long a connection this host closes first keeps its port from connect() toward the destination: tcp_tw_reuse_delay when TIME_WAIT reuse applies to it (1 on kernels before 6.14, which reuse 0-1 s after the last timestamp received), else 60; usable / this is the new-connection rate it sustains.',
      type: 'gauge',
      labelNames: DESTINATION_LABELS,
      values: (ports) => destinationSamples(ports, (destination) => destination.holdSeconds),
    },
    {
      name: 'tcpstate_ephemeral_ports_held',
      help: 'Distinct usable ephemeral ports held by any socket but a listener: what clients that bind() before connect() can no longer get (their limit is usable - held).',
      type: 'gauge',
      values: (ports) => [labelled(ports.held)],
    },
    {
      name: 'tcpstate_ephemeral_port_headroom_ratio',
      help: 'Share of usable ephemeral ports still free toward the most used destination: 1 - used_max / usable.',
      type: 'gauge',
      values: (ports) => [labelled(ports.headroomRatio)],
    },
    {
      name: 'tcpstate_ephemeral_destinations',
      help: 'Distinct destinations with at least one port that blocks connect() (tcpstate_ephemeral_ports_used shows the top ones).',
      type: 'gauge',
      values: (ports) => [labelled(ports.destinationCount)],
    },
  ],
});
