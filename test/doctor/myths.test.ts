import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/report.js';
import { formatText } from '../../src/doctor/text.js';
import {
  allProcfsFixtureRoots,
  caseReport,
  runDoctorCaptured,
  runDoctorJson,
} from '../../testkit/doctor/doctor-cli.js';
import { COUNTER_CASES } from '../../testkit/doctor/doctor-fixtures.js';
import { mythProblemsInFindings, mythProblemsInText } from '../../testkit/doctor/doctor-myths.js';

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

  it('catches SO_LINGER 0 offered as a TIME_WAIT fix, and allows it debunked', () => {
    expect(mythProblemsInText('Set SO_LINGER to 0 to avoid TIME_WAIT.', 'x')).not.toEqual([]);
    expect(
      mythProblemsInText('struct linger l = { .l_onoff = 1, .l_linger = 0 };', 'x'),
    ).not.toEqual([]);
    expect(
      mythProblemsInText('SO_LINGER 0 is no fix: close() sends a RST and loses data.', 'x'),
    ).toEqual([]);
  });
});

describe('doctor never repeats the myths', () => {
  it.each(allProcfsFixtureRoots())('in text or JSON for %s', async (root) => {
    const text = await runDoctorCaptured(['--path.procfs', root, '--window', '0']);
    expect(text.code).toBe(0);
    expect(mythProblemsInText(text.stdout, 'text')).toEqual([]);
    const json = await runDoctorJson(root);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(mythProblemsInFindings(report.findings)).toEqual([]);
    expect(mythProblemsInText(JSON.stringify(report.findings), 'json')).toEqual([]);
  });

  it.each(COUNTER_CASES)('in the counter findings of $name', (testCase) => {
    const report = caseReport(testCase);
    expect(mythProblemsInText(formatText(report), 'text')).toEqual([]);
    expect(mythProblemsInFindings(report.findings)).toEqual([]);
  });
});
