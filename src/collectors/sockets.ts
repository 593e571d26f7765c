/** Sockets by family and state from net/tcp and net/tcp6. */
import { FAMILIES, type SocketTables, TCP_STATES } from '../snapshot/model.js';
import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import { defineCollector, labelled } from './collector.js';

export const socketsCollector = defineCollector({
  name: 'sockets',
  help: 'Socket counts by family and state (tcpstate_sockets).',
  enabledByDefault: true,
  sources: [ENGINE_SOURCES.sockets],
  flags: {},
  select: (snapshot): Pick<SocketTables, 'states'> | undefined => snapshot.sockets,
  selectNamespace: (namespace) => namespace,
  metrics: [
    {
      name: 'tcpstate_sockets',
      help: 'TCP sockets by address family (the tcp or tcp6 table) and state; every combination is always present.',
      type: 'gauge',
      labelNames: ['family', 'state'],
      *values(tables) {
        for (const family of FAMILIES) {
          for (const state of TCP_STATES) {
            yield labelled(tables.states[family][state], { family, state });
          }
        }
      },
    },
  ],
});
