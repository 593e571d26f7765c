import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { timeWaitNearBucketLimit } from '../../../src/doctor/checks/time-wait-near-bucket-limit.js';
import {
  analyseCase,
  fixLines,
  only,
  sampleTree,
  socketCount,
} from '../../../testkit/doctor/check-runs.js';
import { doctorCase, FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

describe('time-wait-near-bucket-limit', () => {
  it('compares all TIME_WAIT with tcp_max_tw_buckets and tells inbound from outbound', () => {
    const testCase = doctorCase('time-wait-near-bucket-limit.trigger');
    const { findings } = analyseCase(testCase.name, FIXTURE_WINDOW_SECONDS, [
      timeWaitNearBucketLimit,
    ]);
    const finding = only(findings, 'time-wait-near-bucket-limit');
    const timeWait = socketCount(testCase.tree, (socket) => socket.state === 'time_wait');
    expect(finding.evidence).toMatchObject({
      timeWait,
      inboundTimeWait: timeWait,
      outboundTimeWait: 0,
      'net.ipv4.tcp_max_tw_buckets': 100,
    });
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.tcp_max_tw_buckets=200');
  });

  it('counts what the kernel compares with the limit, sockstat tw, not the table walk', () => {
    const base = doctorCase('time-wait-near-bucket-limit.quiet').tree;
    const limit = 100;
    // The walk shows the quiet count; sockstat says the namespace holds the limit.
    const snapshot = sampleTree({ ...base, sockstat: { ...base.sockstat, tw: limit } });
    const { findings } = analyse(snapshot, snapshot, FIXTURE_WINDOW_SECONDS, [
      timeWaitNearBucketLimit,
    ]);
    const finding = only(findings, 'time-wait-near-bucket-limit');
    expect(finding.severity).toBe('critical');
    expect(finding.evidence).toMatchObject({
      timeWait: limit,
      'net.ipv4.tcp_max_tw_buckets': limit,
    });
    expect(finding.evidence.inboundTimeWait).toBe(
      socketCount(base, (socket) => socket.state === 'time_wait'),
    );
  });
});
