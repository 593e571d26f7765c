/** What `doctor` reports: findings with stable ids, ordered most severe first. */

/** Most consequential first; also the tie-break order within one severity. */
export const FINDING_IDS = [
  'ephemeral-headroom-low',
  'bind-first-ports-low',
  'snat-ports-low',
  'listener-in-ephemeral-range',
  'port-range-parity',
  'time-wait-near-bucket-limit',
  'time-wait-overflow',
  'client-side-time-wait',
  'tw-reuse-off',
  'tw-reuse-delay-short',
  'timestamps-off',
  'folklore-sysctls',
  'close-wait-accumulating',
  'linger-zero-aborts',
  'listen-overflows',
  'paws-rejects',
  'syn-queue-overflow',
  'orphans-near-limit',
  'conntrack-near-full',
  'tcp-memory-pressure',
  'connect-failures-counted',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

/** Least to most severe. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type EvidenceScalar = number | string;
export type EvidenceValue =
  | EvidenceScalar
  | readonly EvidenceScalar[]
  | readonly Readonly<Record<string, EvidenceScalar>>[];

export interface FixStep {
  /** What to do and why, in one sentence. */
  readonly step: string;
  /** Exact commands or configuration lines, to copy as they are. */
  readonly lines?: readonly string[];
}

export interface Finding {
  readonly id: FindingId;
  readonly severity: Severity;
  /** One line with the key numbers. */
  readonly summary: string;
  /** The numbers behind it: ports, destinations, sysctls (by dotted name) and counters. */
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  /** Why it matters. */
  readonly explanation: string;
  /** The real fix, in order of preference. */
  readonly fix: readonly FixStep[];
  /** Stop the bleeding: what relieves it now, while the real fix is made; may be empty. */
  readonly stopTheBleeding: readonly FixStep[];
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Most severe first; within a severity in FINDING_IDS order, then as the check produced them. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((finding, index) => ({ finding, index }))
    .sort(
      (a, b) =>
        severityRank(b.finding.severity) - severityRank(a.finding.severity) ||
        FINDING_IDS.indexOf(a.finding.id) - FINDING_IDS.indexOf(b.finding.id) ||
        a.index - b.index,
    )
    .map(({ finding }) => finding);
}

/** True when some finding is at or above `threshold`. */
export function hasFindingAtLeast(findings: readonly Finding[], threshold: Severity): boolean {
  return findings.some((finding) => severityRank(finding.severity) >= severityRank(threshold));
}
