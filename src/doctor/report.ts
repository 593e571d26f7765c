/** The whole doctor result as plain data: what `--format json` prints and text renders. */
import type {
  EphemeralPorts,
  Family,
  PortStateCounts,
  Snapshot,
  SocketTables,
  SourceName,
  StateCounts,
} from '../snapshot/model.js';
import type { Sockstat } from '../sources/sockstat.js';
import type { Sysctls } from '../sources/sysctl.js';
import type { Analysis, SkippedCheck } from './analyse.js';
import { type CounterChange, counterChange, SHOWN_COUNTERS } from './counters.js';
import { type Finding, SEVERITIES, type Severity } from './finding.js';

/** The first line: the worst severity found and what it is about. */
export interface Verdict {
  /** `ok` when nothing was found; otherwise the most severe finding's severity. */
  readonly severity: 'ok' | Severity;
  readonly summary: string;
}

export interface DoctorReport {
  readonly verdict: Verdict;
  readonly procfsRoot: string;
  /** When the second sample started (ISO 8601). */
  readonly sampledAt: string;
  /** Seconds between the samples; 0 means one sample and no counter checks. */
  readonly windowSeconds: number;
  /** Sockets per state in each table, as `netstat -an | awk` counts them. */
  readonly states: Readonly<Record<Family, StateCounts>>;
  readonly listeningPorts: readonly number[];
  /** Inbound sockets by listening port and state. */
  readonly listenPorts: readonly PortStateCounts[];
  /** Outbound sockets by remote port and state. */
  readonly remotePorts: readonly PortStateCounts[];
  readonly ephemeral: EphemeralPorts | null;
  readonly sysctl: Sysctls | null;
  readonly sockstat: Sockstat | null;
  /** Kernel counters at the second sample and their rise over the window. */
  readonly counters: readonly CounterChange[];
  /** Sources that could not be read; the checks that needed them are in skippedChecks. */
  readonly unavailable: readonly { readonly source: SourceName; readonly error: string }[];
  readonly skippedChecks: readonly SkippedCheck[];
  /** Most severe first. */
  readonly findings: readonly Finding[];
}

/** The most severe finding says it; the others are counted. */
export function verdictOf(findings: readonly Finding[]): Verdict {
  const [worst, ...others] = findings;
  if (worst === undefined)
    return { severity: 'ok', summary: 'nothing to fix in this network namespace' };
  const counts = SEVERITIES.toReversed()
    .map((severity) => ({
      severity,
      count: others.filter((finding) => finding.severity === severity).length,
    }))
    .filter(({ count }) => count > 0)
    .map(({ severity, count }) => `${count} ${severity}`);
  const more = counts.length === 0 ? '' : ` (also ${counts.join(', ')})`;
  return { severity: worst.severity, summary: `${worst.id}: ${worst.summary}${more}` };
}

export function buildReport(
  first: Snapshot,
  second: Snapshot & { readonly sockets: SocketTables },
  windowSeconds: number,
  analysis: Analysis,
): DoctorReport {
  const unavailable: { source: SourceName; error: string }[] = [];
  for (const [source, status] of Object.entries(second.sources)) {
    if (status !== undefined && !status.success)
      unavailable.push({ source: source as SourceName, error: status.error ?? 'unreadable' });
  }
  const counters = SHOWN_COUNTERS.flatMap(
    (counter) => counterChange(first, second, windowSeconds, counter) ?? [],
  );
  const { sockets } = second;
  return {
    verdict: verdictOf(analysis.findings),
    procfsRoot: second.procfsRoot,
    sampledAt: new Date(second.timestampMs).toISOString(),
    windowSeconds,
    states: sockets.states,
    listeningPorts: sockets.listeningPorts,
    listenPorts: sockets.listenPorts,
    remotePorts: sockets.remotePorts,
    ephemeral: sockets.ephemeral ?? null,
    sysctl: second.sysctl ?? null,
    sockstat: second.sockstat ?? null,
    counters,
    unavailable,
    skippedChecks: analysis.skipped,
    findings: analysis.findings,
  };
}
