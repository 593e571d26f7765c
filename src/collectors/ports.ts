/** Inbound sockets by listening port, outbound by remote port, accept queues and stuck CLOSE_WAIT. */
import {
  type PortStateCounts,
  type SocketTables,
  TCP_STATES,
  type TcpState,
} from '../snapshot/model.js';
import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import { defineCollector, type LabelledValue, labelled } from './collector.js';

/** A port's inbound or outbound sockets can never be LISTEN: that state is left out. */
const PORT_STATES = TCP_STATES.filter((state): state is Exclude<TcpState, 'listen'> => {
  return state !== 'listen';
});

function* portStateSamples(ports: readonly PortStateCounts[]): Iterable<LabelledValue> {
  for (const { port, states } of ports) {
    for (const state of PORT_STATES) yield labelled(states[state], { port: String(port), state });
  }
}

export const portsCollector = defineCollector({
  name: 'ports',
  help: 'Socket counts by listening port and by remote port.',
  enabledByDefault: true,
  sources: [ENGINE_SOURCES.sockets],
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
    closeWaitStuckAfter: {
      name: 'collector.ports.close-wait-stuck-after',
      kind: 'duration',
      default: 5 * 60_000,
      max: 24 * 3_600_000,
      maxReason: "longer than any connection pool's idle timeout",
      help: 'How long a socket must be seen in CLOSE_WAIT, sample after sample, to count as stuck: its peer closed and its program never called close().',
    },
  },
  select: (snapshot): SocketTables | undefined => snapshot.sockets,
  metrics: [
    {
      name: 'tcpstate_local_port_sockets',
      help: 'Inbound sockets (not LISTEN) by the listening local port they belong to and state; ports beyond --collector.ports.max-listen are summed into port="other".',
      type: 'gauge',
      labelNames: ['port', 'state'],
      values: (tables) => portStateSamples(tables.listenPorts),
    },
    {
      name: 'tcpstate_remote_port_sockets',
      help: 'Outbound sockets (local port not listening) by remote port and state, for the ports with most sockets; the rest are summed into port="other".',
      type: 'gauge',
      labelNames: ['port', 'state'],
      values: (tables) => portStateSamples(tables.remotePorts),
    },
    {
      name: 'tcpstate_listen_queue_length',
      help: 'Connections waiting for accept() on the listening port (its longest listener\'s rx_queue); ports beyond --collector.ports.max-listen share port="other", the longest of them.',
      type: 'gauge',
      labelNames: ['port'],
      values: (tables) =>
        tables.listenQueues.map((queue) => labelled(queue.length, { port: String(queue.port) })),
    },
    {
      name: 'tcpstate_close_wait_stuck_sockets',
      help: 'Sockets seen in CLOSE_WAIT in every sample for at least --collector.ports.close-wait-stuck-after (followed by inode): the peer closed and the program never called close(). direction="inbound" by listening local port, "outbound" by remote port; beyond --collector.ports.max-listen and --collector.ports.top-remote (most stuck first) in port="other"; ports with none are left out.',
      type: 'gauge',
      labelNames: ['direction', 'port'],
      *values(tables) {
        const stuck = tables.closeWaitStuck;
        if (stuck === undefined) return;
        for (const [direction, ports] of [
          ['inbound', stuck.inbound],
          ['outbound', stuck.outbound],
        ] as const) {
          for (const { port, count } of ports)
            yield labelled(count, { direction, port: String(port) });
        }
      },
    },
  ],
});
