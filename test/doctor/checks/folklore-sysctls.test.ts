import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { folkloreSysctls } from '../../../src/doctor/checks/folklore-sysctls.js';
import { analyseCase, realFixLines, sampleTree } from '../../../testkit/doctor/check-runs.js';

const checks = [folkloreSysctls];

describe('folklore-sysctls', () => {
  it('names each piece of folklore it sees, and sets each back', () => {
    const { findings } = analyseCase('folklore-sysctls.trigger', 0, checks);
    const bySetting = Object.fromEntries(
      findings.map((finding) => [Object.keys(finding.evidence)[0], finding]),
    );
    expect(Object.keys(bySetting).sort()).toEqual([
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_max_tw_buckets',
      'net.ipv4.tcp_tw_recycle',
    ]);
    const recycle = bySetting['net.ipv4.tcp_tw_recycle'];
    expect(recycle?.severity).toBe('warning');
    expect(recycle && realFixLines(recycle)).toContain('sysctl -w net.ipv4.tcp_tw_recycle=0');
    const fin = bySetting['net.ipv4.tcp_fin_timeout'];
    expect(fin?.severity).toBe('info');
    expect(fin?.summary).toContain('not TIME_WAIT');
    expect(fin && realFixLines(fin)).toContain('sysctl -w net.ipv4.tcp_fin_timeout=60');
    const buckets = bySetting['net.ipv4.tcp_max_tw_buckets'];
    expect(buckets?.severity).toBe('warning');
    expect(buckets?.evidence).toEqual({ 'net.ipv4.tcp_max_tw_buckets': 5000, default: 131072 });
    expect(buckets && realFixLines(buckets)).toContain(
      'sysctl -w net.ipv4.tcp_max_tw_buckets=131072',
    );
  });

  it('says nothing of tcp_max_tw_buckets where the kernel does not show the hash size', () => {
    const old = sampleTree({
      sysctls: { 'net.ipv4.tcp_max_tw_buckets': 5000, 'net.ipv4.tcp_ehash_entries': null },
    });
    expect(analyse(old, old, 0, checks).findings).toEqual([]);
  });

  it('reads a namespace sharing the host hash (negative entries) as the host hash', () => {
    const shared = sampleTree({
      sysctls: { 'net.ipv4.tcp_max_tw_buckets': 4096, 'net.ipv4.tcp_ehash_entries': -65536 },
    });
    const [finding] = analyse(shared, shared, 0, checks).findings;
    expect(finding?.evidence).toEqual({ 'net.ipv4.tcp_max_tw_buckets': 4096, default: 32768 });
  });
});
