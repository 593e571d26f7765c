import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { synQueueOverflow } from '../../../src/doctor/checks/syn-queue-overflow.js';
import { analyseCase, fixLines, only, sampleTree } from '../../../testkit/doctor/check-runs.js';
import { doctorCase, FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [synQueueOverflow];

describe('syn-queue-overflow', () => {
  it('reports the SYN cookie rise', () => {
    const { findings } = analyseCase('syn-queue-overflow.trigger', FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'syn-queue-overflow');
    expect(finding.evidence['TcpExtTCPReqQFullDoCookies.delta']).toBeGreaterThan(0);
    expect(finding.evidence['TcpExtTCPReqQFullDrop.delta']).toBe(0);
  });

  it('is a warning for any dropped SYN and advises SYN cookies when off', () => {
    const base = doctorCase('syn-queue-overflow.quiet');
    const first = sampleTree({ ...base.tree, netstat: { TCPReqQFullDrop: 5 } });
    const second = sampleTree({
      ...base.tree,
      sysctls: { 'net.ipv4.tcp_syncookies': 0 },
      netstat: { TCPReqQFullDrop: 6 },
    });
    const finding = only(analyse(first, second, 100, checks).findings, 'syn-queue-overflow');
    expect(finding.severity).toBe('warning');
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.tcp_syncookies=1');
  });

  it('ignores the cookie counter with tcp_syncookies=2, which counts every SYN, but not drops', () => {
    const trigger = doctorCase('syn-queue-overflow.trigger');
    const always = { 'net.ipv4.tcp_syncookies': 2 };
    const before = trigger.before ?? trigger.tree;
    const first = sampleTree({ ...before, sysctls: { ...before.sysctls, ...always } });
    const second = sampleTree({ ...trigger.tree, sysctls: { ...trigger.tree.sysctls, ...always } });
    expect(analyse(first, second, FIXTURE_WINDOW_SECONDS, checks).findings).toEqual([]);
    const dropped = sampleTree({
      ...trigger.tree,
      sysctls: { ...trigger.tree.sysctls, ...always },
      netstat: { ...trigger.tree.netstat, TCPReqQFullDrop: 3 },
    });
    const finding = only(
      analyse(first, dropped, FIXTURE_WINDOW_SECONDS, checks).findings,
      'syn-queue-overflow',
    );
    expect(finding.evidence['TcpExtTCPReqQFullDoCookies.delta']).toBeUndefined();
    expect(finding.evidence['TcpExtTCPReqQFullDrop.delta']).toBe(3);
  });

  it('says tcp_max_syn_backlog matters only with cookies off', () => {
    const base = doctorCase('syn-queue-overflow.quiet');
    const first = sampleTree({ ...base.tree, netstat: { TCPReqQFullDrop: 5 } });
    for (const cookies of [0, 1]) {
      const second = sampleTree({
        ...base.tree,
        sysctls: { 'net.ipv4.tcp_syncookies': cookies },
        netstat: { TCPReqQFullDrop: 6 },
      });
      const finding = only(analyse(first, second, 100, checks).findings, 'syn-queue-overflow');
      const advice = finding.fix.map((step) => step.step).join('\n');
      expect(advice.includes('tcp_max_syn_backlog'), `tcp_syncookies=${cookies}`).toBe(
        cookies === 0,
      );
    }
  });
});
