/**
 * linger-zero-aborts: TcpExtTCPAbortOnData rose over the window. close() with a zero linger
 * time (the folklore way out of TIME_WAIT) counts there, one per connection
 * (test/doctor/linger-zero-model.test.ts); so does data that arrives after the program
 * closed (RFC 1122: answered with a reset).
 */
import { type Check, counterEvidence, needCounter } from '../check-context.js';
import type { CounterChange } from '../counters.js';

interface Observed {
  readonly change: Required<CounterChange>;
  readonly windowSeconds: number;
}

export const lingerZeroAborts: Check<Observed> = {
  id: 'linger-zero-aborts',

  observe: (context) => {
    const change = needCounter(context, { group: 'tcpExt', field: 'TCPAbortOnData' });
    return change.delta === 0 ? [] : [{ change, windowSeconds: context.windowSeconds }];
  },

  severity: () => 'info',

  summary: ({ change, windowSeconds }) =>
    `${change.delta} connections reset at close() in ${windowSeconds} s (TCPAbortOnData, ${change.perSecond}/s)`,

  evidence: ({ change }) => counterEvidence(change),

  explanation: () =>
    'This host reset connections as it closed them. close() with SO_LINGER on and a linger time of 0 sends a RST instead of a FIN, the folklore way to avoid TIME_WAIT: data still in flight is lost, and the peer reads "connection reset by peer". The same counter counts data that arrived after the program had closed the connection, which the kernel also answers with a RST: a program that closes while its peer still sends (an HTTP server closing before reading the whole request, say).',

  fix: () => [
    {
      step: 'Close connections normally and keep them alive instead: TIME_WAIT on the side that closes first is what makes a new connection on the same ports safe, and reusing connections (keep-alive, pools) avoids it altogether',
    },
    {
      step: 'Find the program: resets it sends show in its peers\' logs as "connection reset by peer", and the sockets it resets leave no TIME_WAIT behind',
      lines: ['nstat -az TcpExtTCPAbortOnData TcpOutRsts'],
    },
  ],
};
