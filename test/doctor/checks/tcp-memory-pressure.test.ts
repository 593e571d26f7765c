import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { tcpMemoryPressure } from '../../../src/doctor/checks/tcp-memory-pressure.js';
import { only, sampleTree } from '../../../testkit/doctor/check-runs.js';
import { doctorCase } from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [tcpMemoryPressure];

describe('tcp-memory-pressure', () => {
  it('is critical at tcp_mem max and when aborts rise', () => {
    const base = doctorCase('tcp-memory-pressure.trigger').tree;
    const atMax = sampleTree({ ...base, sockstat: { mem: 3000 } });
    expect(only(analyse(atMax, atMax, 0, checks).findings, 'tcp-memory-pressure').severity).toBe(
      'critical',
    );
    const quiet = doctorCase('tcp-memory-pressure.quiet').tree;
    const before = sampleTree({ ...quiet, netstat: { TCPAbortOnMemory: 1 } });
    const after = sampleTree({ ...quiet, netstat: { TCPAbortOnMemory: 4 } });
    const aborted = only(analyse(before, after, 2, checks).findings, 'tcp-memory-pressure');
    expect(aborted.severity).toBe('critical');
    expect(aborted.evidence['TcpExtTCPAbortOnMemory.delta']).toBe(3);
  });

  it('is skipped with a reason outside the host namespace, where there is no window either', () => {
    const snapshot = sampleTree({});
    const { skipped } = analyse(snapshot, snapshot, 0, checks);
    const reason = skipped.find((check) => check.id === 'tcp-memory-pressure')?.reason;
    expect(reason).toMatch(/host's network namespace/);
  });
});
