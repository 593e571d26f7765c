/** The sysctls that govern TIME_WAIT, ephemeral ports, listen queues and TCP memory. */

import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import type { Sysctls } from '../sources/sysctl.js';
import { defineCollector, labelled } from './collector.js';

export const sysctlCollector = defineCollector({
  name: 'sysctl',
  help: 'The TCP sysctls that matter for TIME_WAIT and port exhaustion.',
  enabledByDefault: true,
  sources: [ENGINE_SOURCES.sysctl],
  flags: {},
  select: (snapshot): Pick<Sysctls, 'values'> | undefined => snapshot.sysctl,
  selectNamespace: (namespace) => ({ values: namespace.sysctls }),
  metrics: [
    {
      name: 'tcpstate_sysctl',
      help: 'Numeric TCP sysctls that govern TIME_WAIT, ephemeral ports, listen queues and TCP memory, by dotted name; ip_local_port_range as .low and .high, tcp_mem (pages) as .min, .pressure and .max.',
      type: 'gauge',
      labelNames: ['name'],
      values: (sysctls) =>
        Object.keys(sysctls.values)
          .sort()
          .map((name) => labelled(sysctls.values[name] ?? Number.NaN, { name })),
    },
  ],
});
