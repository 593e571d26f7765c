/**
 * What every check gets and the helpers they share: the two snapshots, a way to say
 * "cannot look" (Skip), and the finding constructor. Each check is a pure function of a
 * Context; new checks live in src/doctor/checks/, one file per finding.
 */
import type { Snapshot, SocketTables, SourceName } from '../snapshot/model.js';
import { type CounterChange, type CounterRef, counterChange } from './counters.js';
import type { EvidenceValue, Finding, FindingId, FixStep, Severity } from './finding.js';

export interface Context {
  readonly first: Snapshot;
  readonly second: Snapshot;
  readonly windowSeconds: number;
  /** Second sample's tables; the command never analyses a snapshot without them. */
  readonly sockets: SocketTables | undefined;
  readonly sysctl: Readonly<Record<string, number>>;
}

export type Check = (context: Context) => Finding[];

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

export function needSockstat(context: Context, field: string): number {
  const sockstat = context.second.sockstat;
  if (sockstat === undefined) throw unavailable(context.second, 'sockstat', 'net/sockstat');
  const value = sockstat.ipv4[field];
  if (value === undefined) throw new Skip(`net/sockstat has no TCP ${field} field`);
  return value;
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
  if (netstat !== undefined && netstat[counter.group][counter.field] === undefined)
    return undefined;
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

export interface FindingText {
  readonly summary: string;
  readonly evidence: Record<string, EvidenceValue>;
  readonly explanation: string;
  /** The real fix, in order of preference. */
  readonly fix: FixStep[];
  /** What relieves it now, before the real fix is in; empty when nothing does. */
  readonly stopTheBleeding?: FixStep[];
}

export function finding(id: FindingId, severity: Severity, text: FindingText): Finding {
  return { id, severity, ...text, stopTheBleeding: text.stopTheBleeding ?? [] };
}
