import { describe, expect, it } from 'vitest';
import { listenOverflows } from '../../../src/doctor/checks/listen-overflows.js';
import { analyseCase, fixLines, only } from '../../../testkit/doctor/check-runs.js';
import { FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

describe('listen-overflows', () => {
  it('gives the counter rises, somaxconn and the listeners with half-open connections', () => {
    const { findings } = analyseCase('listen-overflows.trigger', FIXTURE_WINDOW_SECONDS, [
      listenOverflows,
    ]);
    const finding = only(findings, 'listen-overflows');
    expect(finding.evidence).toMatchObject({
      'TcpExtListenOverflows.delta': 32,
      'TcpExtListenDrops.delta': 32,
      'TcpExtListenOverflows.perSecond': 32 / FIXTURE_WINDOW_SECONDS,
      'net.core.somaxconn': 128,
      listenersWithSynRecv: [{ port: 80, synRecv: 4 }],
    });
    const lines = fixLines(finding);
    expect(lines).toContain('ss -ltn');
    expect(lines).toContain('listen 80 backlog=4096;');
    expect(lines).toContain('sysctl -w net.core.somaxconn=4096');
  });
});
