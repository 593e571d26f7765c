/**
 * The runner: two snapshots a window apart → findings. Pure: no I/O, no clock. Each check
 * (one file per finding in ./checks/) either observes what is worth a finding (often
 * nothing) or says why it could not look. Adding a finding: docs/doctor.md.
 */
import type { Snapshot } from '../snapshot/model.js';
import { type Check, type Context, Skip } from './check-context.js';
import { bindFirstPortsLow } from './checks/bind-first-ports-low.js';
import { clientSideTimeWait } from './checks/client-side-time-wait.js';
import { closeWaitAccumulating } from './checks/close-wait-accumulating.js';
import { connectFailuresCounted } from './checks/connect-failures-counted.js';
import { conntrackNearFull } from './checks/conntrack-near-full.js';
import { ephemeralHeadroomLow } from './checks/ephemeral-headroom-low.js';
import { folkloreSysctls } from './checks/folklore-sysctls.js';
import { lingerZeroAborts } from './checks/linger-zero-aborts.js';
import { listenOverflows } from './checks/listen-overflows.js';
import { listenerInEphemeralRange } from './checks/listener-in-ephemeral-range.js';
import { orphansNearLimit } from './checks/orphans-near-limit.js';
import { pawsRejects } from './checks/paws-rejects.js';
import { portRangeParity } from './checks/port-range-parity.js';
import { snatPortsLow } from './checks/snat-ports-low.js';
import { synQueueOverflow } from './checks/syn-queue-overflow.js';
import { tcpMemoryPressure } from './checks/tcp-memory-pressure.js';
import { timeWaitNearBucketLimit } from './checks/time-wait-near-bucket-limit.js';
import { timeWaitOverflow } from './checks/time-wait-overflow.js';
import { timestampsOff } from './checks/timestamps-off.js';
import { twReuseDelayShort } from './checks/tw-reuse-delay-short.js';
import { twReuseOff } from './checks/tw-reuse-off.js';
import { type Finding, type FindingId, sortFindings } from './finding.js';

/** Every check, in FINDING_IDS order (a test holds the two together). */
export const CHECKS: readonly Check[] = [
  ephemeralHeadroomLow,
  bindFirstPortsLow,
  snatPortsLow,
  listenerInEphemeralRange,
  portRangeParity,
  timeWaitNearBucketLimit,
  timeWaitOverflow,
  clientSideTimeWait,
  twReuseOff,
  twReuseDelayShort,
  timestampsOff,
  folkloreSysctls,
  closeWaitAccumulating,
  lingerZeroAborts,
  listenOverflows,
  pawsRejects,
  synQueueOverflow,
  orphansNearLimit,
  conntrackNearFull,
  tcpMemoryPressure,
  connectFailuresCounted,
];

/** A check that could not look, and why. */
export interface SkippedCheck {
  readonly id: FindingId;
  readonly reason: string;
}

export interface Analysis {
  /** Most severe first. */
  readonly findings: readonly Finding[];
  readonly skipped: readonly SkippedCheck[];
}

function findingOf<Observed>(check: Check<Observed>, observed: Observed): Finding {
  const stopTheBleeding = check.stopTheBleeding?.(observed);
  // Where a check gives relief it comes before the fix, else an empty list comes last: the
  // key order the JSON report has always had.
  return {
    id: check.id,
    severity: check.severity(observed),
    summary: check.summary(observed),
    evidence: check.evidence(observed),
    explanation: check.explanation(observed),
    ...(stopTheBleeding !== undefined && { stopTheBleeding }),
    fix: check.fix(observed),
    stopTheBleeding: stopTheBleeding ?? [],
  };
}

/**
 * Runs the checks (all of them unless given) over two snapshots `windowSeconds` apart. With
 * a window of 0 pass the same snapshot twice: the counter checks are then skipped, the rest
 * run on it.
 */
export function analyse(
  first: Snapshot,
  second: Snapshot,
  windowSeconds: number,
  checks: readonly Check[] = CHECKS,
): Analysis {
  const context: Context = {
    first,
    second,
    windowSeconds,
    sockets: second.sockets,
    sysctl: second.sysctl?.values ?? {},
  };
  const findings: Finding[] = [];
  const skipped: SkippedCheck[] = [];
  for (const check of checks) {
    try {
      findings.push(...check.observe(context).map((observed) => findingOf(check, observed)));
    } catch (error) {
      if (!(error instanceof Skip)) throw error;
      skipped.push({ id: check.id, reason: error.reason });
    }
  }
  return { findings: sortFindings(findings), skipped };
}
