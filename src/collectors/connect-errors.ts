/**
 * connect() and bind() calls that really failed for want of a port (docs/connect-errors.md),
 * counted per network namespace from a tracefs stream, which the kernel's own counters miss.
 * Its data is the stream's latest counts, attached to the snapshot on the main thread.
 */
import {
  type ConnectErrorCounts,
  type CountedSyscall,
  EXITED_NETNS,
  OTHER_NETNS,
} from '../sources/connect-errors.js';
import { errorOf, resultOf, scheduledSource } from '../sources/scheduled-source.js';
import { DEFAULT_TRACEFS } from '../sources/tracefs-instance.js';
import { type ConstMetricDefinition, defineCollector, labelled } from './collector.js';
import { NAMESPACE_LABELS, namespaceLabels } from './namespace-labels.js';

/** The tracefs stream, drained continuously, its counts published about once a second (the daemon only). */
export const CONNECT_ERRORS_STREAM = scheduledSource<ConnectErrorCounts>('connect-errors', {
  kind: 'stream',
  heartbeatMs: 1_000,
});

const SERIES_LABELS = ['errno', ...NAMESPACE_LABELS] as const;

function failures(
  syscall: CountedSyscall,
  name: string,
  help: string,
): ConstMetricDefinition<ConnectErrorCounts> {
  return {
    name,
    help: `${help} netns is the namespace inode (as lsns shows it), "${EXITED_NETNS}" when the caller exited before it could be attributed, "${OTHER_NETNS}" beyond --collector.connect-errors.max-namespaces.`,
    type: 'counter',
    labelNames: SERIES_LABELS,
    values: ({ series }) =>
      series
        .filter((one) => one.syscall === syscall)
        .map((one) =>
          labelled(one.count, { errno: one.errno, ...namespaceLabels(one.netns, one) }),
        ),
  };
}

export const connectErrorsCollector = defineCollector({
  name: 'connect-errors',
  help: 'connect() failures with EADDRNOTAVAIL and bind() failures with EADDRINUSE, counted per network namespace from a private tracefs instance (needs tracefs and CAP_SYS_ADMIN; docs/connect-errors.md).',
  enabledByDefault: false,
  // Not the node sample's: a stream read on the main thread.
  sources: [CONNECT_ERRORS_STREAM],
  flags: {
    connectErrorsTracefs: {
      name: 'collector.connect-errors.tracefs',
      kind: 'string',
      default: DEFAULT_TRACEFS,
      placeholder: 'DIR',
      help: 'The tracefs mount; the default is mounted when absent, then /sys/kernel/debug/tracing is tried.',
    },
    connectErrorsMaxNamespaces: {
      name: 'collector.connect-errors.max-namespaces',
      kind: 'positiveInteger',
      default: 1000,
      max: 100_000,
      maxReason: 'each namespace that failed adds up to 2 series for the life of the exporter',
      help: 'Namespaces counted apart; failures in more are summed into netns="other".',
    },
  },
  select: (snapshot): ConnectErrorCounts | undefined => {
    const counts = resultOf(snapshot.scheduled, CONNECT_ERRORS_STREAM);
    return counts?.error === undefined ? counts : undefined;
  },
  missingReason: (snapshot) =>
    errorOf(snapshot.scheduled, CONNECT_ERRORS_STREAM) ??
    resultOf(snapshot.scheduled, CONNECT_ERRORS_STREAM)?.error ??
    'not counting: the stream runs in the daemon only',
  durationSeconds: (snapshot) => resultOf(snapshot.scheduled, CONNECT_ERRORS_STREAM)?.pollSeconds,
  metrics: [
    failures(
      'connect',
      'tcpstate_connect_errors_total',
      'connect() calls that failed with EADDRNOTAVAIL (no ephemeral port left toward the destination), by namespace.',
    ),
    failures(
      'bind',
      'tcpstate_bind_errors_total',
      'bind() calls that failed with EADDRINUSE (the port asked for, or every ephemeral port, taken), by namespace.',
    ),
    {
      name: 'tcpstate_connect_errors_lost_events_total',
      help: 'Failure events the tracefs ring buffer lost before they were read (its per-CPU overrun and dropped counts): failures that happened but are not in the counters.',
      type: 'counter',
      values: ({ lostEvents }) => [labelled(lostEvents)],
    },
  ],
});
