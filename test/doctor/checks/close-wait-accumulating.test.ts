import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { closeWaitAccumulating } from '../../../src/doctor/checks/close-wait-accumulating.js';
import { analyseCase, fixLines, only, socketCount } from '../../../testkit/doctor/check-runs.js';
import {
  doctorCase,
  FIXTURE_WINDOW_SECONDS,
  sampleCase,
} from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [closeWaitAccumulating];

describe('close-wait-accumulating', () => {
  it('names the port and the command that finds the process', () => {
    const testCase = doctorCase('close-wait-accumulating.trigger');
    const { findings } = analyseCase(testCase.name, FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'close-wait-accumulating');
    const closeWait = socketCount(testCase.tree, (socket) => socket.state === 'close_wait');
    expect(finding.evidence).toMatchObject({
      direction: 'inbound',
      localPort: 8080,
      closeWait,
      closeWaitFirstSample: closeWait,
    });
    expect(fixLines(finding)).toEqual(["ss -tanp state close-wait '( sport = :8080 )'"]);
    expect(finding.explanation).toContain('no sysctl');
  });

  it('ignores CLOSE_WAIT that was not there at the first sample', () => {
    const before = sampleCase(doctorCase('close-wait-accumulating.quiet')).second;
    const after = sampleCase(doctorCase('close-wait-accumulating.trigger')).second;
    const ids = analyse(before, after, FIXTURE_WINDOW_SECONDS, checks).findings.map(
      (finding) => finding.id,
    );
    expect(ids).not.toContain('close-wait-accumulating');
  });
});
