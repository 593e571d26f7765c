/**
 * close-wait-accumulating: CLOSE_WAIT sockets piling up on one port, in both samples, so
 * the program there does not close() after the peer closed. An application bug.
 */
import { type Check, needSockets } from '../check-context.js';
import { CLOSE_WAIT_CRITICAL, CLOSE_WAIT_WARNING } from '../thresholds.js';

interface Observed {
  readonly direction: 'inbound' | 'outbound';
  /** The local (inbound) or remote (outbound) port. */
  readonly port: number;
  readonly closeWait: number;
  /** The count at the first sample; undefined without a window. */
  readonly closeWaitFirstSample: number | undefined;
}

export const closeWaitAccumulating: Check<Observed> = {
  id: 'close-wait-accumulating',

  observe: (context) => {
    const sockets = needSockets(context);
    const earlier = context.first.sockets;
    const rising = context.windowSeconds > 0;
    const found: Observed[] = [];
    const directions = [
      { direction: 'inbound', ports: sockets.listenPorts, before: earlier?.listenPorts },
      { direction: 'outbound', ports: sockets.remotePorts, before: earlier?.remotePorts },
    ] as const;
    for (const { direction, ports, before } of directions) {
      for (const entry of ports) {
        const { port } = entry;
        const closeWait = entry.states.close_wait;
        if (port === 'other' || closeWait < CLOSE_WAIT_WARNING) continue;
        const firstCount = before?.find((old) => old.port === port)?.states.close_wait ?? 0;
        // Present in both samples: not a moment between the peer's FIN and our close().
        if (rising && firstCount < CLOSE_WAIT_WARNING) continue;
        found.push({
          direction,
          port,
          closeWait,
          closeWaitFirstSample: rising ? firstCount : undefined,
        });
      }
    }
    return found;
  },

  severity: ({ closeWait }) => (closeWait >= CLOSE_WAIT_CRITICAL ? 'critical' : 'warning'),

  summary: ({ direction, port, closeWait }) =>
    `${closeWait} CLOSE_WAIT sockets ${direction === 'inbound' ? `on local port ${port} (inbound)` : `toward remote port ${port} (outbound)`}`,

  evidence: ({ direction, port, closeWait, closeWaitFirstSample }) => ({
    direction,
    [direction === 'inbound' ? 'localPort' : 'remotePort']: port,
    closeWait,
    ...(closeWaitFirstSample !== undefined && { closeWaitFirstSample }),
  }),

  explanation: ({ direction, port }) =>
    `The peer closed these connections, but the ${direction === 'inbound' ? `program serving port ${port}` : `client connected to port ${port}`} has not called close(). The kernel never times CLOSE_WAIT out, so each holds a file descriptor until the program closes it or exits. This is an application bug: no sysctl fixes it.`,

  stopTheBleeding: ({ direction, port }) => [
    {
      step: 'Find the process holding them',
      lines: [
        `ss -tanp state close-wait '( ${direction === 'inbound' ? 'sport' : 'dport'} = :${port} )'`,
      ],
    },
    { step: 'Restarting that process releases them until the bug is fixed' },
  ],

  fix: ({ direction }) => [
    {
      step:
        direction === 'inbound'
          ? 'Fix the program to close the socket when a read returns end of file and on every error path'
          : 'Fix the client to close connections the server has closed: a pool must check idle connections and close them on end of file',
    },
  ],
};
