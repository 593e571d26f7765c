import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { twReuseOff } from '../../../src/doctor/checks/tw-reuse-off.js';
import {
  analyseCase,
  fixLines,
  only,
  sampleCaseWithSysctls,
} from '../../../testkit/doctor/check-runs.js';
import { FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [twReuseOff];

describe('tw-reuse-off', () => {
  it('explains tcp_tw_reuse=1, its need for timestamps, and that it only affects connect()', () => {
    const { findings } = analyseCase('tw-reuse-off.trigger', FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'tw-reuse-off');
    expect(finding.evidence['net.ipv4.tcp_tw_reuse']).toBe(2);
    expect(finding.explanation).toContain('net.ipv4.tcp_timestamps=1');
    expect(finding.explanation).toContain('only affects outgoing connections');
    expect(fixLines(finding)[0]).toBe('sysctl -w net.ipv4.tcp_tw_reuse=1');
  });

  it('turns timestamps on first when they are off', () => {
    const snapshot = sampleCaseWithSysctls('tw-reuse-off.trigger', {
      'net.ipv4.tcp_timestamps': 0,
    });
    const finding = only(analyse(snapshot, snapshot, 0, checks).findings, 'tw-reuse-off');
    expect(fixLines(finding).slice(0, 1)).toEqual(['sysctl -w net.ipv4.tcp_timestamps=1']);
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.tcp_tw_reuse=1');
  });

  it('counts loopback destinations too when tcp_tw_reuse is 0', () => {
    const snapshot = sampleCaseWithSysctls('tw-reuse-off.quiet', { 'net.ipv4.tcp_tw_reuse': 0 });
    const finding = only(analyse(snapshot, snapshot, 0, checks).findings, 'tw-reuse-off');
    expect(finding.summary).toContain('off');
  });

  it('says nothing when tcp_tw_reuse is already 1', () => {
    const snapshot = sampleCaseWithSysctls('tw-reuse-off.trigger', { 'net.ipv4.tcp_tw_reuse': 1 });
    // Every check: the TIME_WAIT is still reported, as client-side-time-wait.
    const ids = analyse(snapshot, snapshot, 0).findings.map((finding) => finding.id);
    expect(ids).toContain('client-side-time-wait');
    expect(ids).not.toContain('tw-reuse-off');
  });
});
