import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/doctor/analyse.js';
import type { DoctorReport } from '../../src/doctor/report.js';
import { buildReport } from '../../src/doctor/report.js';
import { formatText } from '../../src/doctor/text.js';
import { sampleProcfs } from '../../src/snapshot/sample.js';
import { allProcfsFixtureRoots, runDoctorCaptured } from '../helpers/doctor-cli.js';
import {
  caseDirs,
  DOCTOR_CASES,
  DOCTOR_FIXTURES_DIR,
  FIXTURE_WINDOW_SECONDS,
} from '../helpers/doctor-fixtures.js';
import { mythProblemsInFindings, mythProblemsInText } from '../helpers/doctor-myths.js';

describe('the myth checker', () => {
  it('catches tcp_tw_recycle advice and tcp_fin_timeout presented as a TIME_WAIT setting', () => {
    expect(
      mythProblemsInText('Set net.ipv4.tcp_tw_recycle=1 to recycle sockets.', 'x'),
    ).not.toEqual([]);
    expect(mythProblemsInText('Enable tcp_tw_recycle for faster reuse.', 'x')).not.toEqual([]);
    expect(mythProblemsInText('Lower tcp_fin_timeout to shorten TIME_WAIT.', 'x')).not.toEqual([]);
    expect(mythProblemsInText('sysctl -w net.ipv4.tcp_fin_timeout=15', 'x')).not.toEqual([]);
    expect(
      mythProblemsInText(
        'tcp_fin_timeout bounds orphaned FIN_WAIT2, not TIME_WAIT. tcp_tw_recycle was removed in Linux 4.12.',
        'x',
      ),
    ).toEqual([]);
  });
});

describe('doctor never repeats the myths', () => {
  it.each(allProcfsFixtureRoots())('in text or JSON for %s', async (root) => {
    const text = await runDoctorCaptured(['--path.procfs', root, '--window', '0']);
    expect(text.code).toBe(0);
    expect(mythProblemsInText(text.stdout, 'text')).toEqual([]);
    const json = await runDoctorCaptured([
      '--path.procfs',
      root,
      '--window',
      '0',
      '--format',
      'json',
    ]);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(mythProblemsInFindings(report.findings)).toEqual([]);
    expect(mythProblemsInText(JSON.stringify(report.findings), 'json')).toEqual([]);
  });

  it.each(DOCTOR_CASES.filter((testCase) => testCase.before !== undefined))(
    'in the counter findings of $name',
    (testCase) => {
      const dirs = caseDirs(DOCTOR_FIXTURES_DIR, testCase);
      const first = sampleProcfs({ procfsRoot: dirs.procBefore });
      const second = sampleProcfs({ procfsRoot: dirs.proc });
      if (second.sockets === undefined) throw new Error('fixture without socket tables');
      const analysis = analyse(first, second, FIXTURE_WINDOW_SECONDS);
      const report = buildReport(
        first,
        { ...second, sockets: second.sockets },
        FIXTURE_WINDOW_SECONDS,
        analysis,
      );
      expect(mythProblemsInText(formatText(report), 'text')).toEqual([]);
      expect(mythProblemsInFindings(report.findings)).toEqual([]);
    },
  );
});
