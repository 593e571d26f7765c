/** The kernel's TIME_WAIT, PAWS, listen-queue, open/reset, retransmission and drop counters (net/netstat, net/snmp). */

import { ENGINE_SOURCES } from '../snapshot/source-readers.js';
import {
  type CounterField,
  type CounterGroup,
  type CounterRef,
  counterLabel,
  counterValue,
  type NetstatCounters,
} from '../sources/netstat.js';
import { type ConstMetricDefinition, defineCollector, labelled } from './collector.js';

/** A counter from one kernel field; absent when the kernel lacks the field. */
export function kernelCounter<Group extends CounterGroup>(
  name: string,
  help: string,
  table: Group,
  field: CounterField<Group>,
): ConstMetricDefinition<NetstatCounters> {
  // The parameters' types tie the field to its group; TypeScript cannot carry that into one object.
  const counter = { group: table, field } as CounterRef;
  return {
    name,
    help: `${help} (${counterLabel(table, field)}).`,
    type: 'counter',
    values: (counters) => {
      const value = counterValue(counters, counter);
      return value === undefined ? [] : [labelled(value)];
    },
  };
}

export const netstatCollector = defineCollector({
  name: 'netstat',
  help: 'TIME_WAIT, PAWS, listen queue and open counters from net/netstat and net/snmp.',
  enabledByDefault: true,
  sources: [ENGINE_SOURCES.netstat],
  flags: {},
  select: (snapshot): NetstatCounters | undefined => snapshot.netstat,
  selectNamespace: (namespace) => namespace.netstat,
  metrics: [
    kernelCounter(
      'tcpstate_timewait_finished_total',
      'Sockets put into TIME_WAIT for the full period (TcpExt TW); the kernel counts them when it arms the timer, so the rate is how fast TIME_WAIT sockets are created',
      'tcpExt',
      'TW',
    ),
    kernelCounter(
      'tcpstate_timewait_killed_total',
      'TIME_WAIT (or orphaned FIN_WAIT2) sockets given a short timeout of 4 s or less (TcpExt TWKilled)',
      'tcpExt',
      'TWKilled',
    ),
    kernelCounter(
      'tcpstate_timewait_reused_total',
      'TIME_WAIT 4-tuples reused by connect() (tcp_tw_reuse)',
      'tcpExt',
      'TWRecycled',
    ),
    kernelCounter(
      'tcpstate_timewait_overflows_total',
      'TIME_WAIT sockets destroyed at once because tcp_max_tw_buckets was reached',
      'tcpExt',
      'TCPTimeWaitOverflow',
    ),
    {
      name: 'tcpstate_paws_rejected_total',
      help: 'Segments rejected by the PAWS timestamp check, by stage: active (SYN-ACK to a connect(), TcpExt PAWSActive), established (TcpExt PAWSEstab), timewait (segments to a TIME_WAIT socket, TcpExt PAWSTimewait), old_ack (old ACKs, TcpExt PAWSOldAck), tsecr_rejected (echoed timestamp not sent by us, TcpExt TSEcrRejected); each stage only where the kernel counts it.',
      type: 'counter',
      labelNames: ['stage'],
      *values(counters) {
        for (const [stage, field] of [
          ['active', 'PAWSActive'],
          ['established', 'PAWSEstab'],
          ['timewait', 'PAWSTimewait'],
          ['old_ack', 'PAWSOldAck'],
          ['tsecr_rejected', 'TSEcrRejected'],
        ] as const) {
          const value = counters.tcpExt[field];
          if (value !== undefined) yield labelled(value, { stage });
        }
      },
    },
    kernelCounter(
      'tcpstate_listen_overflows_total',
      'Connections dropped because a listen queue was full',
      'tcpExt',
      'ListenOverflows',
    ),
    kernelCounter(
      'tcpstate_listen_drops_total',
      'Connection requests dropped by listeners for any reason',
      'tcpExt',
      'ListenDrops',
    ),
    kernelCounter(
      'tcpstate_syn_queue_full_drops_total',
      "Connection requests dropped because a listener's SYN queue was full and SYN cookies were off",
      'tcpExt',
      'TCPReqQFullDrop',
    ),
    kernelCounter(
      'tcpstate_syn_queue_full_cookies_total',
      "SYN cookies sent because a listener's SYN queue was full",
      'tcpExt',
      'TCPReqQFullDoCookies',
    ),
    kernelCounter(
      'tcpstate_syncookies_sent_total',
      'SYN cookies sent in reply to SYNs',
      'tcpExt',
      'SyncookiesSent',
    ),
    kernelCounter(
      'tcpstate_syncookies_failed_total',
      'ACKs whose SYN cookie did not validate',
      'tcpExt',
      'SyncookiesFailed',
    ),
    kernelCounter(
      'tcpstate_memory_pressures_total',
      'Times TCP entered memory pressure, when sockstat mem reached the tcp_mem pressure value',
      'tcpExt',
      'TCPMemoryPressures',
    ),
    kernelCounter(
      'tcpstate_memory_aborts_total',
      'Connections reset because TCP was out of memory or too many orphans existed',
      'tcpExt',
      'TCPAbortOnMemory',
    ),
    kernelCounter(
      'tcpstate_active_opens_total',
      'Connections opened by connect()',
      'tcp',
      'ActiveOpens',
    ),
    kernelCounter(
      'tcpstate_passive_opens_total',
      'Connections accepted by listeners',
      'tcp',
      'PassiveOpens',
    ),
    kernelCounter(
      'tcpstate_attempt_fails_total',
      'Connection attempts that failed before reaching ESTABLISHED',
      'tcp',
      'AttemptFails',
    ),
    kernelCounter(
      'tcpstate_established_resets_total',
      'ESTABLISHED or CLOSE_WAIT connections reset',
      'tcp',
      'EstabResets',
    ),
    kernelCounter(
      'tcpstate_segments_retransmitted_total',
      'TCP segments retransmitted',
      'tcp',
      'RetransSegs',
    ),
    kernelCounter(
      'tcpstate_resets_sent_total',
      'Segments sent with the RST flag',
      'tcp',
      'OutRsts',
    ),
    kernelCounter(
      'tcpstate_syn_retransmits_total',
      'SYN and SYN-ACK retransmissions: peers that do not answer a connect() or a listener',
      'tcpExt',
      'TCPSynRetrans',
    ),
    kernelCounter(
      'tcpstate_timeouts_total',
      'Retransmission timer expiries (RTO) on connections in any state',
      'tcpExt',
      'TCPTimeouts',
    ),
    kernelCounter(
      'tcpstate_timeout_aborts_total',
      'Connections reset after exhausting their retransmissions or keepalive probes',
      'tcpExt',
      'TCPAbortOnTimeout',
    ),
    kernelCounter(
      'tcpstate_backlog_drops_total',
      "Segments dropped because a socket's backlog was full while a program held its lock",
      'tcpExt',
      'TCPBacklogDrop',
    ),
    kernelCounter(
      'tcpstate_receive_queue_drops_total',
      "Segments dropped because a socket's receive buffer (or TCP memory) had no room",
      'tcpExt',
      'TCPRcvQDrop',
    ),
    kernelCounter(
      'tcpstate_data_aborts_total',
      'Connections reset by close() with SO_LINGER set to 0, or by data arriving after the program shut reading down',
      'tcpExt',
      'TCPAbortOnData',
    ),
  ],
});
