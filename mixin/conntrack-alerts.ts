/**
 * Alerts on the conntrack and snat collectors (docs/conntrack.md): NAT ports per destination,
 * the conntrack table against its limit, and flows the kernel refused. A group of its own,
 * so it changes apart from the socket alerts.
 */
import { type AlertingRule, instanceValueTemplate, type RuleGroup, toRule } from './alerts.js';
import type { Duration, MixinConfig } from './config.js';
import { onHost, series, whereTemplate } from './promql.js';

/** One NAT destination of `tcpstate_snat_ports_used`, as a Go template over the labels. */
const NAT_DESTINATION_TEMPLATE =
  '{{ $labels.remote_address }} port {{ $labels.remote_port }}/{{ $labels.protocol }} (from NAT address {{ $labels.nat_address }})';

export function conntrackGroup(config: MixinConfig): RuleGroup {
  const c = config.conntrack;
  const sel = config.selector;
  // Per destination, so the alert names it; the summed "other" series is no destination.
  const share =
    `${series('tcpstate_snat_ports_used', sel, 'remote_address!="other"')}\n` +
    `/ ${onHost(config)} group_left\n${series('tcpstate_snat_ports_usable', sel)}`;
  const usable = instanceValueTemplate(config, 'tcpstate_snat_ports_usable');
  // No upper bound: a share flapping between 100 % and 99.99 % stays one pending alert, and
  // keep_firing_for holds it through a scrape or two below the level.
  const headroomLow = (
    severity: 'warning' | 'critical',
    ratio: number,
    pendingFor: Duration,
  ): AlertingRule => ({
    ...toRule(config, {
      alert: 'TcpStateSnatPortHeadroomLow',
      severity,
      expr: `${share}\n>= ${ratio}`,
      for: pendingFor,
      summary:
        'Source NAT runs out of ports toward one destination: new flows to it are dropped and connect() times out.',
      description:
        `{{ $labels.instance }}: {{ $value | humanizePercentage }} of the ${usable} NAT ports toward ` +
        `${NAT_DESTINATION_TEMPLATE} are held by conntrack entries. When none is left the SYN is dropped ` +
        '(conntrack insert_failed and drop): the client times out instead of failing at once.',
    }),
    keep_firing_for: c.snatKeepFiringFor,
  });
  const events = (names: string): string =>
    series('tcpstate_conntrack_events_total', sel, `event=~"${names}"`);
  return {
    name: 'tcpstate-conntrack',
    rules: [
      headroomLow('critical', c.snatCriticalRatio, c.snatCriticalFor),
      headroomLow('warning', c.snatWarningRatio, c.snatWarningFor),
      toRule(config, {
        alert: 'TcpStateConntrackTableNearlyFull',
        severity: 'warning',
        expr:
          // Per namespace too (--collector.netns): each counts against the node's one limit.
          `${series('tcpstate_conntrack_entries', sel)}\n/ ${onHost(config)} group_left\n` +
          `${series('tcpstate_conntrack_entries_limit', sel)}\n>= ${c.entriesWarningRatio}`,
        for: c.entriesFor,
        summary: 'The conntrack table is nearly full: at its limit new flows are dropped.',
        description:
          `${whereTemplate(config)}: the conntrack table holds {{ $value | humanizePercentage }} of its ` +
          `${instanceValueTemplate(config, 'tcpstate_conntrack_entries_limit')} entries (nf_conntrack_max). At the limit ` +
          'the kernel evicts unassured flows (early_drop) and then drops new ones.',
      }),
      toRule(config, {
        alert: 'TcpStateConntrackDropping',
        severity: 'critical',
        expr: `sum without (event) (increase(${events('insert_failed|drop')}[${c.dropsWindow}])) > 0`,
        for: c.dropsFor,
        summary: 'Conntrack refuses new flows (insert_failed, drop): their connections time out.',
        description:
          `${whereTemplate(config)}: conntrack counted {{ $value | humanize }} insert_failed and drop events in the ` +
          `last ${c.dropsWindow}, and has for ${c.dropsFor}: flows refused for want of a free NAT port toward a ` +
          'destination, or by a full table. Each refused SYN is a connect() that times out.',
      }),
    ],
  };
}
