/**
 * port-range-parity: the ends of ip_local_port_range have the same parity (an odd-sized
 * range, as copied from advice like "1024 65000"). connect() walks an even count of ports,
 * so one port is never examined (docs/connect-model.md, rule 9, confirmed by the "odd-sized
 * range" case of test/snapshot/connect-model.test.ts).
 */
import { sysctlFix } from '../advice.js';
import { type Check, unavailable } from '../check-context.js';
import { PORT_RANGE } from '../sysctl-names.js';

interface Observed {
  readonly low: number;
  readonly high: number;
}

export const portRangeParity: Check<Observed> = {
  id: 'port-range-parity',

  observe: (context) => {
    const range = context.second.sysctl?.portRange;
    if (range === undefined) throw unavailable(context.second, 'sysctl', PORT_RANGE);
    const { low, high } = range;
    return high > low && (high - low) % 2 === 0 ? [{ low, high }] : [];
  },

  severity: () => 'info',

  summary: ({ low, high }) =>
    `${PORT_RANGE} ${low} ${high}: both ends ${low % 2 === 0 ? 'even' : 'odd'}, an odd number of ports (${high - low + 1})`,

  evidence: ({ low, high }) => ({ [PORT_RANGE]: `${low} ${high}`, ports: high - low + 1 }),

  explanation: () =>
    'connect() starts on ports of the same parity as the low end and bind(port 0) on the other, and each walks an even number of ports: in a range of odd size every connect() that does not start at its lowest port never examines it, so one port is lost to plain connect(). The kernel documentation asks for ends of different parity (one even, one odd), as the default 32768 60999 has.',

  fix: ({ low, high }) => [
    sysctlFix(
      'Give the range ends of different parity',
      PORT_RANGE,
      `${low} ${high === 65535 ? high - 1 : high + 1}`,
    ),
  ],
};
