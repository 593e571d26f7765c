import { describe, expect, it } from 'vitest';
import { analyse, CHECKS } from '../../src/doctor/analyse.js';
import { FINDING_IDS, severityRank, sortFindings } from '../../src/doctor/finding.js';
import { analyseCase, sampleTree } from '../../testkit/doctor/check-runs.js';
import {
  DOCTOR_CASES,
  doctorCase,
  FIXTURE_WINDOW_SECONDS,
  sampleCase,
} from '../../testkit/doctor/doctor-fixtures.js';

describe('the checks the runner holds', () => {
  it('are one per finding id, in FINDING_IDS order', () => {
    expect(CHECKS.map((check) => check.id)).toEqual([...FINDING_IDS]);
  });
});

describe.each(DOCTOR_CASES)('fixture $name', (testCase) => {
  it('reports what the tree shows and nothing it must not', () => {
    const { findings } = analyseCase(testCase.name);
    for (const [id, severity] of Object.entries(testCase.expected)) {
      const matching = findings.filter((finding) => finding.id === id);
      expect(matching.length, `${id} present`).toBeGreaterThan(0);
      expect(matching.map((finding) => finding.severity)).toContain(severity);
    }
    for (const id of testCase.absent) {
      expect(findings.map((finding) => finding.id)).not.toContain(id);
    }
  });
});

/** Every case's findings, with the case they came from. */
const CASE_FINDINGS = DOCTOR_CASES.flatMap((testCase) =>
  analyseCase(testCase.name).findings.map((finding) => ({ name: testCase.name, finding })),
);

describe('the findings of all cases', () => {
  it('cover every finding id, so the checks below see each kind', () => {
    const ids = new Set(CASE_FINDINGS.map(({ finding }) => finding.id));
    expect(FINDING_IDS.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('sort most severe first, then in FINDING_IDS order', () => {
    // Across cases, an earlier id can be less severe (bind-first-ports-low is info).
    const sorted = sortFindings(CASE_FINDINGS.map(({ finding }) => finding).reverse());
    const keys = sorted.map((finding) => [
      -severityRank(finding.severity),
      FINDING_IDS.indexOf(finding.id),
    ]);
    expect(keys).toEqual(
      [...keys].sort(([s1 = 0, i1 = 0], [s2 = 0, i2 = 0]) => s1 - s2 || i1 - i2),
    );
    expect(new Set(sorted.map((finding) => finding.severity)).size).toBe(3);
  });

  it('come sorted out of analyse, whatever order the checks run in', () => {
    const mixed = DOCTOR_CASES.filter(
      (testCase) =>
        new Set(analyseCase(testCase.name).findings.map((finding) => finding.severity)).size > 1,
    );
    expect(mixed.length).toBeGreaterThan(1);
    for (const testCase of mixed) {
      const { first, second } = sampleCase(testCase);
      const reversed = analyse(first, second, FIXTURE_WINDOW_SECONDS, [...CHECKS].reverse());
      expect(reversed.findings, testCase.name).toEqual(sortFindings(reversed.findings));
      expect(reversed.findings, testCase.name).toEqual(analyseCase(testCase.name).findings);
    }
  });

  it('list stop-the-bleeding before the fix where a check gives relief, else last and empty', () => {
    expect(CASE_FINDINGS.length).toBeGreaterThan(0);
    for (const { name, finding } of CASE_FINDINGS) {
      const keys = Object.keys(finding);
      const check = CHECKS.find((candidate) => candidate.id === finding.id);
      const relief = check?.stopTheBleeding !== undefined;
      expect(keys, `${name}: ${finding.id}`).toEqual([
        'id',
        'severity',
        'summary',
        'evidence',
        'explanation',
        ...(relief ? ['stopTheBleeding', 'fix'] : ['fix', 'stopTheBleeding']),
      ]);
      if (!relief) expect(finding.stopTheBleeding).toEqual([]);
    }
  });
});

describe('counter checks', () => {
  it('are skipped with a window of 0, the others still run', () => {
    const { second } = sampleCase(doctorCase('listen-overflows.trigger'));
    const { findings, skipped } = analyse(second, second, 0);
    const needWindow = skipped.filter((check) => check.reason.includes('window'));
    expect(needWindow.map((check) => check.id).sort()).toEqual(
      [
        'connect-failures-counted',
        'linger-zero-aborts',
        'listen-overflows',
        'paws-rejects',
        'syn-queue-overflow',
        'time-wait-overflow',
      ].sort(),
    );
    expect(findings.map((finding) => finding.id)).not.toContain('listen-overflows');
  });

  it('are skipped, naming the file, when net/netstat is missing', () => {
    const snapshot = sampleTree({ omit: ['net/netstat'] });
    const { skipped } = analyse(snapshot, snapshot, FIXTURE_WINDOW_SECONDS);
    const reasons = skipped.filter((check) => check.id === 'listen-overflows');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]?.reason).toContain('netstat');
  });

  it('are skipped when the kernel lacks the counter', () => {
    const snapshot = sampleTree({ netstat: { TCPTimeWaitOverflow: null } });
    const { skipped } = analyse(snapshot, snapshot, FIXTURE_WINDOW_SECONDS);
    expect(skipped).toContainEqual({
      id: 'time-wait-overflow',
      reason: 'this kernel has no TCPTimeWaitOverflow counter',
    });
  });
});
