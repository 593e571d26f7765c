/**
 * What every check is and gets: the Check shape (one per file in src/doctor/checks/), the
 * two snapshots it reads, and a way to say "cannot look" (Skip). See docs/doctor.md.
 */
import type { EphemeralPorts, Snapshot, SocketTables, SourceName } from '../snapshot/model.js';
import type { ConntrackStats } from '../sources/conntrack-stats.js';
import { type CounterRef, counterValue } from '../sources/netstat.js';
import type { SockstatField } from '../sources/sockstat.js';
import { type CounterChange, counterChange, round } from './counters.js';
import type { EvidenceValue, FindingId, FixStep, Severity } from './finding.js';

export interface Context {
  readonly first: Snapshot;
  readonly second: Snapshot;
  readonly windowSeconds: number;
  /** Second sample's tables; the command never analyses a snapshot without them. */
  readonly sockets: SocketTables | undefined;
  readonly sysctl: Readonly<Record<string, number>>;
}

/**
 * One finding: how it looks, then how it words what it saw. `observe` returns one entry per
 * finding to report (often none); the other members turn an entry into the finding's parts.
 * All are pure. Members are methods so that the runner can hold checks of any Observed.
 */
export interface Check<Observed = unknown> {
  readonly id: FindingId;
  /** The figures worth a finding, or Skip thrown with the reason it cannot look. */
  observe(context: Context): readonly Observed[];
  /** The severity rule. */
  severity(observed: Observed): Severity;
  /** One line with the key numbers. */
  summary(observed: Observed): string;
  /** The figures it cites: ports, destinations, sysctls (by dotted name) and counters. */
  evidence(observed: Observed): Record<string, EvidenceValue>;
  /** Why it matters. */
  explanation(observed: Observed): string;
  /** What relieves it now, while the real fix is made; left out where nothing does. */
  stopTheBleeding?(observed: Observed): FixStep[];
  /** The real fix, in order of preference. */
  fix(observed: Observed): FixStep[];
}

/** Thrown inside a check that cannot look; analyse() records it as skipped. */
export class Skip extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function unavailable(snapshot: Snapshot, source: SourceName, what: string): Skip {
  const error = snapshot.sources[source]?.error;
  return new Skip(error === undefined ? `${what} not read` : `${what} unreadable: ${error}`);
}

export function needSockets(context: Context): SocketTables {
  if (context.sockets === undefined) throw unavailable(context.second, 'sockets', 'socket tables');
  return context.sockets;
}

export function needEphemeral(sockets: SocketTables): EphemeralPorts {
  if (sockets.ephemeral === undefined)
    throw new Skip(`ephemeral ports unknown: ${sockets.ephemeralError ?? 'no port range'}`);
  return sockets.ephemeral;
}

/** Host-wide sysctls /proc/sys shows in the host's network namespace only. */
const HOST_ONLY_SYSCTLS = /^net\.ipv4\.(tcp_mem|tcp_max_orphans)/;

export function needSysctl(context: Context, name: string): number {
  if (context.second.sysctl === undefined) throw unavailable(context.second, 'sysctl', 'sysctls');
  const value = context.sysctl[name];
  if (value === undefined)
    throw new Skip(
      HOST_ONLY_SYSCTLS.test(name)
        ? `${name} is host-wide and /proc/sys shows it only in the host's network namespace: run doctor there`
        : `${name} is not present on this kernel`,
    );
  return value;
}

export function needSockstat(context: Context, field: SockstatField): number {
  const sockstat = context.second.sockstat;
  if (sockstat === undefined) throw unavailable(context.second, 'sockstat', 'net/sockstat');
  const value = sockstat.ipv4[field];
  if (value === undefined) throw new Skip(`net/sockstat has no TCP ${field} field`);
  return value;
}

/** Conntrack's stats; undefined where the kernel has none (nothing to find), Skip when unreadable. */
export function conntrackIfPresent(context: Context): ConntrackStats | undefined {
  if (context.second.conntrack !== undefined) return context.second.conntrack;
  if (context.second.sources.conntrack === undefined) return undefined;
  throw unavailable(context.second, 'conntrack', 'net/stat/nf_conntrack');
}

export function needCounter(context: Context, counter: CounterRef): Required<CounterChange> {
  if (context.windowSeconds <= 0) throw new Skip('needs a window of more than 0 s');
  if (context.second.netstat === undefined || context.first.netstat === undefined)
    throw unavailable(context.second, 'netstat', 'kernel counters');
  const change = counterChange(context.first, context.second, context.windowSeconds, counter);
  if (change === undefined) throw new Skip(`this kernel has no ${counter.field} counter`);
  if (change.delta === undefined || change.perSecond === undefined)
    throw new Skip(`${change.name} went backwards during the window`);
  return { ...change, delta: change.delta, perSecond: change.perSecond };
}

/** A counter's rise, or undefined when this kernel lacks it (for checks that read several). */
export function optionalCounter(
  context: Context,
  counter: CounterRef,
): Required<CounterChange> | undefined {
  const netstat = context.second.netstat;
  if (netstat !== undefined && counterValue(netstat, counter) === undefined) return undefined;
  return needCounter(context, counter);
}

/** The rise-over-window evidence of a counter: `TcpExtX.delta`, `.perSecond`, `.total`. */
export function counterEvidence(change: Required<CounterChange>): Record<string, number> {
  return {
    [`${change.name}.delta`]: change.delta,
    [`${change.name}.perSecond`]: change.perSecond,
    [`${change.name}.total`]: change.total,
  };
}

/** A ratio as the summaries print it: `42.5%`. */
export function percent(ratio: number): string {
  return `${round(ratio * 100, 1)}%`;
}
