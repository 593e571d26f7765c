/** Inbound sockets by listening port, outbound by remote port, and accept queues. */
import {
  type PortStateCounts,
  type SocketTables,
  TCP_STATES,
  type TcpState,
} from '../snapshot/model.js';
import { type ConstSample, defineCollector, sample } from './collector.js';

/** A port's inbound or outbound sockets can never be LISTEN: that state is left out. */
const PORT_STATES = TCP_STATES.filter((state): state is Exclude<TcpState, 'listen'> => {
  return state !== 'listen';
});

function* portStateSamples(ports: readonly PortStateCounts[]): Iterable<ConstSample> {
  for (const { port, states } of ports) {
    for (const state of PORT_STATES) yield sample(states[state], { port: String(port), state });
  }
}

export const portsCollector = defineCollector({
  name: 'ports',
  help: 'Socket counts by listening port and by remote port.',
  enabledByDefault: true,
  sources: ['sockets'],
  flags: {
    maxListenPorts: {
      name: 'collector.ports.max-listen',
      kind: 'positiveInteger',
      default: 64,
      max: 1000,
      maxReason: 'each port adds up to 11 series',
      help: 'Listening ports reported one by one; the rest are summed into port="other".',
    },
    topRemotePorts: {
      name: 'collector.ports.top-remote',
      kind: 'positiveInteger',
      default: 20,
      max: 1000,
      maxReason: 'each port adds up to 11 series',
      help: 'Remote ports reported one by one (most sockets first); the rest in port="other".',
    },
  },
  select: (snapshot): SocketTables | undefined => snapshot.sockets,
  metrics: [
    {
      name: 'tcpstate_local_port_sockets',
      help: 'Inbound sockets (not LISTEN) by the listening local port they belong to and state; ports beyond --collector.ports.max-listen are summed into port="other".',
      type: 'gauge',
      labelNames: ['port', 'state'],
      samples: (tables) => portStateSamples(tables.listenPorts),
    },
    {
      name: 'tcpstate_remote_port_sockets',
      help: 'Outbound sockets (local port not listening) by remote port and state, for the ports with most sockets; the rest are summed into port="other".',
      type: 'gauge',
      labelNames: ['port', 'state'],
      samples: (tables) => portStateSamples(tables.remotePorts),
    },
    {
      name: 'tcpstate_listen_queue_length',
      help: 'Connections waiting for accept() on the listening port (its longest listener\'s rx_queue); ports beyond --collector.ports.max-listen share port="other", the longest of them.',
      type: 'gauge',
      labelNames: ['port'],
      samples: (tables) =>
        tables.listenQueues.map((queue) => sample(queue.length, { port: String(queue.port) })),
    },
  ],
});
