/**
 * Alerts on the kernel counters an operator should hear about (the netstat collector):
 * connections aborted by their retransmission or keepalive timers, and segments dropped on
 * arrival for want of room in a socket. Warnings: each means slower or failed requests, none
 * an outage of the host. The other counters (retransmitted segments, RSTs sent, SYN
 * retransmits, RTOs, linger-0 aborts) are normal in small numbers: dashboards and doctor show
 * them. A group of its own, so it changes apart from the socket alerts.
 */
import { type RuleGroup, toRule } from './alerts.js';
import type { MixinConfig } from './config.js';
import { onNamespace, series } from './promql.js';

export function counterGroup(config: MixinConfig): RuleGroup {
  const c = config.counters;
  const sel = config.selector;
  const rate = (metric: string) => `rate(${series(metric, sel)}[${c.window}])`;
  const drops = (alert: string, metric: string, what: string, why: string) =>
    toRule(config, {
      alert,
      severity: 'warning',
      expr: `${rate(metric)} > ${c.dropsPerSecond}`,
      for: c.for,
      summary: `The kernel drops incoming TCP segments: ${what}.`,
      description:
        `{{ $labels.instance }} dropped {{ $value | printf "%.2f" }} segments/s over ${c.window} (${why}), ` +
        `and has for ${c.for}: each one is sent again after a retransmission timeout, so requests slow down.`,
    });
  return {
    name: 'tcpstate-kernel-counters',
    rules: [
      toRule(config, {
        alert: 'TcpStateTimeoutAborts',
        severity: 'warning',
        expr:
          `${rate('tcpstate_timeout_aborts_total')}\n/ ${onNamespace(config)}\n` +
          `(${rate('tcpstate_active_opens_total')} + ${onNamespace(config)} ${rate('tcpstate_passive_opens_total')})\n` +
          `>= ${c.timeoutAbortShare}\nand ${onNamespace(config)}\n` +
          `increase(${series('tcpstate_timeout_aborts_total', sel)}[${c.window}]) >= ${c.timeoutAbortsMin}`,
        for: c.for,
        summary:
          'Connections end on a timeout: peers stop answering and the kernel gives up on them.',
        description:
          '{{ $labels.instance }}: connections aborted after exhausting their retransmissions or keepalive probes ' +
          `(TCPAbortOnTimeout) are {{ $value | humanizePercentage }} of the connections opened over ${c.window}, ` +
          `and have been for ${c.for}: peers or a path that lose packets, or a middlebox that dropped the flows.`,
      }),
      drops(
        'TcpStateBacklogDrops',
        'tcpstate_backlog_drops_total',
        "a socket's backlog was full",
        "TCPBacklogDrop: a program held the socket's lock while more arrived than its backlog holds",
      ),
      drops(
        'TcpStateReceiveQueueDrops',
        'tcpstate_receive_queue_drops_total',
        "a socket's receive buffer was full",
        'TCPRcvQDrop: a program reads too slowly for its receive buffer, or TCP memory ran short',
      ),
    ],
  };
}
