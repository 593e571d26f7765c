/**
 * snat-ports-low: the NAT ports one destination holds (its source-NATed flows in
 * net/nf_conntrack) against those a NAT address can use toward it (the NAT rule's range).
 * Past them the kernel drops the SYN: connect() times out, and conntrack counts only
 * insert_failed and drop (docs/conntrack.md). Nothing to find without the table.
 */
import type { SnatUse, UsableSource } from '../../snapshot/snat-accumulator.js';
import type { ConntrackEvent } from '../../sources/conntrack-stats.js';
import { KERNEL_DEFAULT_NAT_PORTS } from '../../sources/nat-rules.js';
import { type Check, type Context, percent, Skip, unavailable } from '../check-context.js';
import { round } from '../counters.js';
import type { FixStep } from '../finding.js';
import { SNAT_USE_CRITICAL_RATIO, SNAT_USE_WARNING_RATIO } from '../thresholds.js';

/** The conntrack events a NAT port shortage raises, one of each per dropped SYN. */
const DROP_EVENTS: readonly ConntrackEvent[] = ['insert_failed', 'drop'];

interface Observed {
  readonly destination: SnatUse;
  readonly usable: number;
  readonly source: UsableSource;
  readonly ratio: number;
  /** Rise of each drop event over the window, where both samples have it. */
  readonly drops: Readonly<Partial<Record<ConntrackEvent, number>>>;
}

function describe({ natAddress, remoteAddress, remotePort, protocol }: SnatUse): string {
  const remote = remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress;
  return `${protocol} ${remote}:${remotePort} via NAT address ${natAddress}`;
}

function dropRises(context: Context): Observed['drops'] {
  const before = context.first.conntrack?.events;
  const after = context.second.conntrack?.events;
  const drops: Partial<Record<ConntrackEvent, number>> = {};
  if (context.windowSeconds <= 0 || before === undefined || after === undefined) return drops;
  for (const event of DROP_EVENTS) {
    const [first, second] = [before[event], after[event]];
    if (first !== undefined && second !== undefined && second >= first) {
      drops[event] = second - first;
    }
  }
  return drops;
}

function listFlows({ destination }: Observed): FixStep {
  const { natAddress, remoteAddress, remotePort, protocol } = destination;
  return {
    step: 'See the flows holding the ports and their states: closed TCP flows keep theirs for nf_conntrack_tcp_timeout_time_wait (120 s)',
    lines: [
      `conntrack -L -p ${protocol} --reply-src ${remoteAddress} --reply-port-src ${remotePort} --reply-dst ${natAddress} 2>/dev/null | awk '{print $4}' | sort | uniq -c`,
      'conntrack -S',
    ],
  };
}

export const snatPortsLow: Check<Observed> = {
  id: 'snat-ports-low',

  observe: (context) => {
    const snat = context.second.snat;
    if (snat === undefined) {
      if (context.second.sources.snat === undefined) return [];
      throw unavailable(context.second, 'snat', 'net/nf_conntrack');
    }
    if (snat.usedMax === 0) return [];
    if (snat.usable === undefined) {
      throw new Skip(
        `NAT port range unknown (${snat.usableError ?? 'no NAT rules read'}): set --collector.snat.usable-ports`,
      );
    }
    const { ports: usable, source } = snat.usable;
    const drops = dropRises(context);
    return snat.destinations
      .filter((destination) => destination.used / usable >= SNAT_USE_WARNING_RATIO)
      .map((destination) => ({
        destination,
        usable,
        source,
        ratio: destination.used / usable,
        drops,
      }));
  },

  severity: ({ ratio }) => (ratio >= SNAT_USE_CRITICAL_RATIO ? 'critical' : 'warning'),

  summary: ({ destination, usable, ratio }) =>
    `${describe(destination)}: ${destination.used} of ${usable} NAT ports held (${percent(ratio)}), ${Math.max(0, usable - destination.used)} left`,

  evidence: ({ destination, usable, source, ratio, drops }) => ({
    natAddress: destination.natAddress,
    remoteAddress: destination.remoteAddress,
    remotePort: destination.remotePort,
    protocol: destination.protocol,
    used: destination.used,
    usable,
    usableSource: source,
    usedRatio: round(ratio, 3),
    ...Object.fromEntries(
      Object.entries(drops).map(([event, rise]) => [`conntrack.${event}.delta`, rise]),
    ),
  }),

  explanation: ({ destination, usable, drops }) => {
    const dropped = Object.values(drops).some((rise) => rise > 0)
      ? ' Conntrack counted insert_failed or drop during the window: SYNs are being dropped now.'
      : '';
    return `Source NAT gives each flow toward ${describe(destination)} its own port of the ${usable} the rule allows, per NAT address and destination, shared by every pod behind it; the pods' own ip_local_port_range does not count. When they are all held, the kernel drops the SYN: connect() does not fail at once but times out after its retries, and only conntrack's insert_failed and drop counters show it. A closed TCP flow keeps its port for nf_conntrack_tcp_timeout_time_wait (120 s).${dropped}`;
  },

  stopTheBleeding: (observed) => {
    const steps = [listFlows(observed)];
    if (observed.source === 'rule' && observed.usable < KERNEL_DEFAULT_NAT_PORTS) {
      steps.push({
        step: `Widen the port range of the masquerade/snat rule (${observed.usable} ports now), or drop the range: without one the kernel picks from 1024-65535`,
        lines: [
          "nft -a list ruleset | grep -E 'masquerade|snat'",
          "iptables-save -t nat | grep -E 'MASQUERADE|SNAT'",
        ],
      });
    }
    return steps;
  },

  fix: () => [
    {
      step: 'Reuse connections (HTTP keep-alive, connection pools): each new flow takes a NAT port and holds it until 120 s after it closes',
    },
    {
      step: 'Give the NAT more egress addresses (an address range in the snat rule, `snat to A-B` or `--to-source A-B`; more addresses on a cloud NAT gateway): each address has its own ports toward each destination, and the kernel spreads flows over them by source and destination address',
    },
    {
      step: 'Spread the traffic over more destination addresses or ports: each destination has its own set of NAT ports',
    },
    {
      step: 'Do not count on --random-fully (nft fully-random): it picks ports at random within the same range, so fewer flows race for one port, but it adds none',
    },
    {
      step: "Do not widen the pods' ip_local_port_range: the NAT ports are the node's, per NAT address and destination, and a wider pod range adds none",
    },
    {
      step: 'Do not shorten nf_conntrack_tcp_timeout_time_wait or exempt the traffic with notrack: a port reused while the destination still holds the old connection stalls the new one, and untracked flows are not NATed at all',
    },
  ],
};
