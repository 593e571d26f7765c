/**
 * tcp-memory-pressure: all TCP sockets of the host against tcp_mem (pages). At the pressure
 * value the kernel shrinks buffers (TCPMemoryPressures counts the entries); at the max it
 * refuses memory and resets orphans (TCPAbortOnMemory). The thresholds are the kernel's own.
 */
import {
  type Check,
  counterEvidence,
  needSockstat,
  optionalCounter,
  Skip,
} from '../check-context.js';
import { type CounterChange, round } from '../counters.js';
import { TCP_MEM } from '../sysctl-names.js';

interface Observed {
  /** Pages all TCP sockets hold (net/sockstat `mem`). */
  readonly pages: number;
  /** tcp_mem's three values, where /proc/sys shows them (the host's namespace only). */
  readonly min: number | undefined;
  readonly pressure: number | undefined;
  readonly max: number | undefined;
  /** Each counter's rise, undefined without a window or where this kernel lacks it. */
  readonly pressures: Required<CounterChange> | undefined;
  readonly aborts: Required<CounterChange> | undefined;
}

const overMax = ({ pages, max }: Observed) => max !== undefined && pages >= max;
const aborted = ({ aborts }: Observed) => (aborts?.delta ?? 0) > 0;
const entered = ({ pressures }: Observed) => (pressures?.delta ?? 0) > 0;

export const tcpMemoryPressure: Check<Observed> = {
  id: 'tcp-memory-pressure',

  observe: (context) => {
    const observed: Observed = {
      pages: needSockstat(context, 'mem'),
      min: context.sysctl[`${TCP_MEM}.min`],
      pressure: context.sysctl[`${TCP_MEM}.pressure`],
      max: context.sysctl[`${TCP_MEM}.max`],
      pressures:
        context.windowSeconds > 0
          ? optionalCounter(context, { group: 'tcpExt', field: 'TCPMemoryPressures' })
          : undefined,
      aborts:
        context.windowSeconds > 0
          ? optionalCounter(context, { group: 'tcpExt', field: 'TCPAbortOnMemory' })
          : undefined,
    };
    const { pages, pressure, pressures, aborts } = observed;
    if (pressure === undefined && pressures === undefined && aborts === undefined)
      throw new Skip(
        `${TCP_MEM} is host-wide and /proc/sys shows it only in the host's network namespace, and there are no counters to fall back on`,
      );
    const overPressure = pressure !== undefined && pages >= pressure;
    return overMax(observed) || overPressure || aborted(observed) || entered(observed)
      ? [observed]
      : [];
  },

  severity: (observed) => (overMax(observed) || aborted(observed) ? 'critical' : 'warning'),

  summary: (observed) => {
    const { pages, pressure, max, pressures, aborts } = observed;
    return `TCP memory: ${pages} pages in use${pressure === undefined ? '' : ` (pressure at ${pressure}, max ${max})`}${entered(observed) ? `, entered pressure ${pressures?.delta} times` : ''}${aborted(observed) ? `, ${aborts?.delta} connections reset for memory` : ''}`;
  },

  evidence: ({ pages, min, pressure, max, pressures, aborts }) => ({
    pages,
    ...(pressure !== undefined && {
      [`${TCP_MEM}.min`]: min ?? 0,
      [`${TCP_MEM}.pressure`]: pressure,
      [`${TCP_MEM}.max`]: max ?? 0,
      pressureRatio: round(pages / pressure, 3),
    }),
    ...(pressures !== undefined && counterEvidence(pressures)),
    ...(aborts !== undefined && counterEvidence(aborts)),
  }),

  explanation: () =>
    `All TCP sockets of the host share ${TCP_MEM} (in pages: min, pressure, max). Above the pressure value the kernel shrinks socket buffers, so throughput drops; at the max it refuses buffer memory, drops segments and resets orphaned connections (TCPAbortOnMemory, "out of memory -- consider tuning tcp_mem" in the kernel log). Usually many connections with full buffers: slow readers, or a backlog of unsent data.`,

  stopTheBleeding: () => [
    {
      step: 'Find the connections with the fullest receive queues (Recv-Q) and send queues (Send-Q)',
      lines: ['ss -tnH | sort -k2,2nr | head', 'ss -tnH | sort -k3,3nr | head'],
    },
  ],

  fix: () => [
    {
      step: `Raise ${TCP_MEM} only with the memory to back it (the default is sized from RAM at boot); first find why buffers stay full: peers that do not read, or a program that writes faster than the network carries`,
    },
  ],
};
