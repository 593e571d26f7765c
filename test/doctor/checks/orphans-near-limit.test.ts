import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { orphansNearLimit } from '../../../src/doctor/checks/orphans-near-limit.js';
import { ORPHANS_WARNING_RATIO } from '../../../src/doctor/thresholds.js';
import { analyseCase, only, sampleTree } from '../../../testkit/doctor/check-runs.js';
import { FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [orphansNearLimit];

describe('orphans-near-limit', () => {
  it('compares sockstat orphans with tcp_max_orphans', () => {
    const { findings } = analyseCase('orphans-near-limit.trigger', FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'orphans-near-limit');
    // The trigger fixture sits exactly at the warning level of a 1000-orphan limit.
    expect(finding.evidence).toMatchObject({
      orphans: ORPHANS_WARNING_RATIO * 1000,
      'net.ipv4.tcp_max_orphans': 1000,
    });
    expect(finding.severity).toBe('warning');
  });

  it('is skipped with a reason outside the host namespace', () => {
    const snapshot = sampleTree({});
    const { skipped } = analyse(snapshot, snapshot, 0, checks);
    const reason = skipped.find((check) => check.id === 'orphans-near-limit')?.reason;
    expect(reason).toMatch(/host's network namespace/);
  });
});
