/** timestamps-off: tcp_timestamps=0, which takes PAWS and tcp_tw_reuse away. */
import { sysctlFix } from '../advice.js';
import { type Check, needSysctl } from '../check-context.js';
import { TIMESTAMPS } from '../sysctl-names.js';

/** Observes the tcp_timestamps value, reported only when it is 0. */
export const timestampsOff: Check<number> = {
  id: 'timestamps-off',

  observe: (context) => {
    const timestamps = needSysctl(context, TIMESTAMPS);
    return timestamps === 0 ? [timestamps] : [];
  },

  severity: () => 'warning',

  summary: (timestamps) => `${TIMESTAMPS}=${timestamps}: TCP timestamps are off`,

  evidence: (timestamps) => ({ [TIMESTAMPS]: timestamps }),

  explanation: () =>
    'Without timestamps there is no PAWS protection against segments of an old connection, tcp_tw_reuse cannot reuse any TIME_WAIT port, and round-trip times are measured less well. Modern kernels randomise the timestamp offset per connection, so timestamps no longer reveal uptime.',

  fix: () => [sysctlFix('Turn timestamps on', TIMESTAMPS, 1)],
};
