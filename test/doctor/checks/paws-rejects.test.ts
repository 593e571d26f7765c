import { describe, expect, it } from 'vitest';
import { pawsRejects } from '../../../src/doctor/checks/paws-rejects.js';
import { PAWS_WARNING_PER_SECOND } from '../../../src/doctor/thresholds.js';
import { analyseCase, only } from '../../../testkit/doctor/check-runs.js';
import { FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

/** The check alone on the triggering case, over a window of `windowSeconds`. */
function pawsOver(windowSeconds: number) {
  const { findings } = analyseCase('paws-rejects.trigger', windowSeconds, [pawsRejects]);
  return only(findings, 'paws-rejects');
}

describe('paws-rejects', () => {
  it('is a warning at one reject a second or more, info below', () => {
    const fast = pawsOver(FIXTURE_WINDOW_SECONDS);
    expect(fast.severity).toBe('warning');
    expect(fast.evidence['TcpExtPAWSEstab.delta']).toBe(10);
    // The same rise over a window long enough to fall under the rate.
    const slowWindow = (10 / PAWS_WARNING_PER_SECOND) * 2;
    const slow = pawsOver(slowWindow);
    expect(slow.severity).toBe('info');
  });
});
