/**
 * connect-failures-counted: connect() calls that failed with EADDRNOTAVAIL and bind() calls
 * that failed with EADDRINUSE in this network namespace during doctor's window, counted from
 * a private tracefs instance (docs/connect-errors.md). Not a prediction: the calls failed.
 * Skipped, saying why, where doctor may not trace (no tracefs, no CAP_SYS_ADMIN or root) or
 * has no window to count in.
 */
import { CONNECT_ERRORS_STREAM } from '../../collectors/connect-errors.js';
import { resultOf } from '../../sources/scheduled-source.js';
import { type Check, Skip } from '../check-context.js';
import { round } from '../counters.js';
import { PORT_RANGE } from '../sysctl-names.js';

interface Observed {
  readonly syscall: 'connect' | 'bind';
  readonly errno: string;
  readonly failures: number;
  readonly windowSeconds: number;
  /** Failures the trace buffer lost: they happened but are in no count. */
  readonly lostEvents: number;
}

export const connectFailuresCounted: Check<Observed> = {
  id: 'connect-failures-counted',

  observe: (context) => {
    const counts = resultOf(context.second.scheduled, CONNECT_ERRORS_STREAM);
    if (counts === undefined) {
      throw new Skip(
        'failures are counted only while doctor watches the live /proc for a --window longer than 0',
      );
    }
    if (counts.error !== undefined) throw new Skip(`failures not counted: ${counts.error}`);
    return (['connect', 'bind'] as const).flatMap((syscall) => {
      const series = counts.series.filter((one) => one.syscall === syscall);
      const failures = series.reduce((sum, one) => sum + one.count, 0);
      if (failures === 0) return [];
      const errno = series[0]?.errno ?? '';
      return [
        {
          syscall,
          errno,
          failures,
          windowSeconds: context.windowSeconds,
          lostEvents: counts.lostEvents,
        },
      ];
    });
  },

  // A failed connect() is the outage; bind() EADDRINUSE is also a server retrying its port.
  severity: ({ syscall }) => (syscall === 'connect' ? 'critical' : 'warning'),

  summary: ({ syscall, errno, failures, windowSeconds }) =>
    `${failures} ${syscall}() calls failed with ${errno} in ${round(windowSeconds, 1)} s`,

  evidence: ({ syscall, errno, failures, windowSeconds, lostEvents }) => ({
    syscall,
    errno,
    failures,
    window_seconds: round(windowSeconds, 1),
    lost_events: lostEvents,
  }),

  explanation: ({ syscall }) =>
    syscall === 'connect'
      ? 'connect() returned EADDRNOTAVAIL: no local port was free toward a destination, so the call failed at once and no connection was made. The kernel keeps no counter of these; doctor counted them from tracefs while it watched. The ephemeral-headroom-low finding, when present, names the destination.'
      : 'bind() returned EADDRINUSE: the port asked for was taken, or a bind() to port 0 found every port of the range in use (clients that bind before connecting). The same errno is a server retrying a port another process holds.',

  stopTheBleeding: ({ syscall }) =>
    syscall === 'connect'
      ? [
          {
            step: 'Widen the port range of this namespace (the ephemeral-headroom-low finding gives the exact value)',
            lines: [`sysctl ${PORT_RANGE}`],
          },
        ]
      : [
          {
            step: 'Find who holds the ports: a server that cannot start, or clients that bind first',
            lines: ["ss -tanp | awk '{print $4}' | sort | uniq -c | sort -rn | head"],
          },
        ],

  fix: ({ syscall }) =>
    syscall === 'connect'
      ? [
          {
            step: 'Reuse connections (keep-alive, a pool) so the client stops opening one per request',
          },
        ]
      : [
          {
            step: 'Do not bind before connecting unless the source address must be chosen, and then set IP_BIND_ADDRESS_NO_PORT so the port is picked at connect()',
          },
        ],
};
