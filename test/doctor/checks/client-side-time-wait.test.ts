import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { clientSideTimeWait } from '../../../src/doctor/checks/client-side-time-wait.js';
import {
  analyseCase,
  fixLines,
  only,
  sampleCaseWithSysctls,
  socketCount,
} from '../../../testkit/doctor/check-runs.js';
import {
  doctorCase,
  FIXTURE_WINDOW_SECONDS,
  sampleCase,
} from '../../../testkit/doctor/doctor-fixtures.js';

/** The check alone on a fixture case. */
function clientSideTimeWaitOf(name: string) {
  const { findings } = analyseCase(name, FIXTURE_WINDOW_SECONDS, [clientSideTimeWait]);
  return only(findings, 'client-side-time-wait');
}

describe('client-side-time-wait', () => {
  it('recommends FastCGI keepalive and a unix socket for a local php-fpm on 9000', () => {
    const testCase = doctorCase('client-side-time-wait.trigger');
    const finding = clientSideTimeWaitOf(testCase.name);
    const timeWait = socketCount(testCase.tree, (socket) => socket.remote === '127.0.0.1:9000');
    expect(finding.evidence).toMatchObject({ remotePort: 9000, timeWait, localBackend: 'yes' });
    const lines = fixLines(finding);
    expect(lines).toContain('fastcgi_keep_conn on;');
    expect(lines.some((line) => /^ {4}keepalive \d+;$/.test(line))).toBe(true);
    expect(lines).toContain('fastcgi_pass unix:/run/php/php-fpm.sock;');
    // Each kept-alive FastCGI connection pins a php-fpm worker.
    const keepaliveStep = finding.fix.find((step) => step.lines?.includes('fastcgi_keep_conn on;'));
    expect(keepaliveStep?.step).toMatch(/pm\.max_children/);
    expect(keepaliveStep?.step).toMatch(/worker_processes/);
  });

  it('warns against SO_LINGER 0 as a way out of TIME_WAIT', () => {
    const finding = clientSideTimeWaitOf('client-side-time-wait.trigger');
    expect(finding.explanation).toMatch(/SO_LINGER[^.]*RST[^.]*lost/);
    expect(fixLines(finding).join('\n')).not.toContain('SO_LINGER');
  });

  it('recommends HTTP keepalive, and no unix socket, for a remote upstream', () => {
    const finding = clientSideTimeWaitOf('tw-reuse-off.trigger');
    expect(finding.evidence).toMatchObject({ remotePort: 8080, localBackend: 'no' });
    const lines = fixLines(finding);
    expect(lines).toContain('    server 198.18.5.5:8080;');
    expect(lines).toContain('proxy_http_version 1.1;');
    expect(lines.some((line) => line.includes('unix:'))).toBe(false);
  });
});

describe('TIME_WAIT that connect() may reuse', () => {
  it('says the loopback TIME_WAIT is reusable under tcp_tw_reuse=2 and gives both rates', () => {
    const testCase = doctorCase('client-side-time-wait.trigger');
    const { second } = sampleCase(testCase);
    const usable = second.sockets?.ephemeral?.usable ?? Number.NaN;
    const delayMs = second.sockets?.ephemeral?.reuse.twReuseDelayMs ?? Number.NaN;
    // Every check: tw-reuse-off must stay quiet where reuse already applies.
    const { findings } = analyseCase(testCase.name);
    const finding = only(findings, 'client-side-time-wait');
    expect(finding.severity).toBe('info');
    expect(finding.evidence).toMatchObject({
      reusable: 'yes',
      connectionsPerSecondLimit: usable / (delayMs / 1000),
      connectionsPerSecondWithoutReuse: Math.round((usable / 60) * 10) / 10,
    });
    expect(finding.explanation).toContain('reusable');
    expect(finding.explanation).not.toMatch(/fails with EADDRNOTAVAIL/);
    expect(findings.map((found) => found.id)).not.toContain('tw-reuse-off');
  });

  it('says the same for any destination with tcp_tw_reuse=1, and advises no reuse setting', () => {
    const snapshot = sampleCaseWithSysctls('tw-reuse-off.trigger', { 'net.ipv4.tcp_tw_reuse': 1 });
    const { findings } = analyse(snapshot, snapshot, 0);
    const finding = only(findings, 'client-side-time-wait');
    expect(finding.evidence.reusable).toBe('yes');
    expect(finding.severity).toBe('info');
    for (const found of findings)
      expect(fixLines(found).some((line) => line.includes('tcp_tw_reuse'))).toBe(false);
  });

  it('is a warning with the 60 s rate when reuse does not apply', () => {
    const finding = clientSideTimeWaitOf('tw-reuse-off.trigger');
    expect(finding.severity).toBe('warning');
    expect(finding.evidence.reusable).toBe('no');
    expect(finding.evidence.connectionsPerSecondLimit).toBe(
      finding.evidence.connectionsPerSecondWithoutReuse,
    );
  });
});
