import { describe, expect, it } from 'vitest';
import { timeWaitOverflow } from '../../../src/doctor/checks/time-wait-overflow.js';
import { analyseCase, only } from '../../../testkit/doctor/check-runs.js';
import { FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

describe('time-wait-overflow', () => {
  it('reports the overflow counter rise and its rate over the window', () => {
    const { findings } = analyseCase('time-wait-overflow.trigger', FIXTURE_WINDOW_SECONDS, [
      timeWaitOverflow,
    ]);
    const finding = only(findings, 'time-wait-overflow');
    expect(finding.evidence).toMatchObject({
      'TcpExtTCPTimeWaitOverflow.delta': 250,
      'TcpExtTCPTimeWaitOverflow.perSecond': 250 / FIXTURE_WINDOW_SECONDS,
      'TcpExtTCPTimeWaitOverflow.total': 1450,
    });
  });
});
