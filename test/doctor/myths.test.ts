import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/finding.js';
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

describe('the myth checker on fixes', () => {
  const finding = (step: string, lines: string[], evidence = {}): Finding => ({
    id: 'folklore-sysctls',
    severity: 'warning',
    summary: 'seen',
    evidence,
    explanation: 'seen',
    fix: [{ step, lines }],
    stopTheBleeding: [],
  });

  it('lets a fix undo what was seen', () => {
    const undo = [
      finding('Turn it off (removed in Linux 4.12)', ['sysctl -w net.ipv4.tcp_tw_recycle=0']),
      finding('Restore it: it bounds FIN_WAIT2', [
        'sysctl -w net.ipv4.tcp_fin_timeout=60',
        "echo 'net.ipv4.tcp_fin_timeout = 60' > /etc/sysctl.d/90-tcp_fin_timeout.conf",
      ]),
      finding('Restore it', ['sysctl -w net.ipv4.tcp_max_tw_buckets=131072'], {
        'net.ipv4.tcp_max_tw_buckets': 5000,
      }),
    ];
    expect(mythProblemsInFindings(undo)).toEqual([]);
  });

  it('never lets a fix apply them', () => {
    const apply = [
      finding('It was removed in 4.12, but', ['sysctl -w net.ipv4.tcp_tw_recycle=1']),
      finding('Shorten FIN_WAIT2', ["echo 'net.ipv4.tcp_fin_timeout = 15' > /etc/sysctl.conf"]),
      finding('Free the ports', ['sysctl -w net.ipv4.tcp_max_tw_buckets=1000'], {
        'net.ipv4.tcp_max_tw_buckets': 5000,
      }),
      finding('Lower tcp_max_tw_buckets to free ports', []),
      finding('Set SO_LINGER 0: the RST skips TIME_WAIT', []),
    ];
    for (const one of apply)
      expect(mythProblemsInFindings([one]), one.fix[0]?.step).not.toEqual([]);
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
