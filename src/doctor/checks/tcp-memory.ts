/**
 * tcp-memory-pressure: all TCP sockets of the host against tcp_mem (pages). At the pressure
 * value the kernel shrinks buffers (TCPMemoryPressures counts the entries); at the max it
 * refuses memory and resets orphans (TCPAbortOnMemory). The thresholds are the kernel's own.
 */
import {
  type Check,
  counterEvidence,
  finding,
  needSockstat,
  optionalCounter,
  Skip,
} from '../check-context.js';
import { round } from '../counters.js';
import type { Severity } from '../finding.js';

const TCP_MEM = 'net.ipv4.tcp_mem';

export const tcpMemoryPressure: Check = (context) => {
  const pages = needSockstat(context, 'mem');
  const pressure = context.sysctl[`${TCP_MEM}.pressure`];
  const max = context.sysctl[`${TCP_MEM}.max`];
  const pressures =
    context.windowSeconds > 0
      ? optionalCounter(context, { group: 'tcpExt', field: 'TCPMemoryPressures' })
      : undefined;
  const aborts =
    context.windowSeconds > 0
      ? optionalCounter(context, { group: 'tcpExt', field: 'TCPAbortOnMemory' })
      : undefined;
  if (pressure === undefined && pressures === undefined && aborts === undefined)
    throw new Skip(
      `${TCP_MEM} is host-wide and /proc/sys shows it only in the host's network namespace, and there are no counters to fall back on`,
    );
  const overMax = max !== undefined && pages >= max;
  const overPressure = pressure !== undefined && pages >= pressure;
  const aborted = (aborts?.delta ?? 0) > 0;
  const entered = (pressures?.delta ?? 0) > 0;
  if (!overMax && !overPressure && !aborted && !entered) return [];
  const severity: Severity = overMax || aborted ? 'critical' : 'warning';
  return [
    finding('tcp-memory-pressure', severity, {
      summary: `TCP memory: ${pages} pages in use${pressure === undefined ? '' : ` (pressure at ${pressure}, max ${max})`}${entered ? `, entered pressure ${pressures?.delta} times` : ''}${aborted ? `, ${aborts?.delta} connections reset for memory` : ''}`,
      evidence: {
        pages,
        ...(pressure !== undefined && {
          [`${TCP_MEM}.min`]: context.sysctl[`${TCP_MEM}.min`] ?? 0,
          [`${TCP_MEM}.pressure`]: pressure,
          [`${TCP_MEM}.max`]: max ?? 0,
          pressureRatio: round(pages / pressure, 3),
        }),
        ...(pressures !== undefined && counterEvidence(pressures)),
        ...(aborts !== undefined && counterEvidence(aborts)),
      },
      explanation: `All TCP sockets of the host share ${TCP_MEM} (in pages: min, pressure, max). Above the pressure value the kernel shrinks socket buffers, so throughput drops; at the max it refuses buffer memory, drops segments and resets orphaned connections (TCPAbortOnMemory, "out of memory -- consider tuning tcp_mem" in the kernel log). Usually many connections with full buffers: slow readers, or a backlog of unsent data.`,
      stopTheBleeding: [
        {
          step: 'Find the connections with the fullest receive queues (Recv-Q) and send queues (Send-Q)',
          lines: ['ss -tnH | sort -k2,2nr | head', 'ss -tnH | sort -k3,3nr | head'],
        },
      ],
      fix: [
        {
          step: `Raise ${TCP_MEM} only with the memory to back it (the default is sized from RAM at boot); first find why buffers stay full: peers that do not read, or a program that writes faster than the network carries`,
        },
      ],
    }),
  ];
};
