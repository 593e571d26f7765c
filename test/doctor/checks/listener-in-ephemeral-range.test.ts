import { describe, expect, it } from 'vitest';
import { listenerInEphemeralRange } from '../../../src/doctor/checks/listener-in-ephemeral-range.js';
import { analyseCase, fixLines, only } from '../../../testkit/doctor/check-runs.js';
import { FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

describe('listener-in-ephemeral-range', () => {
  it('lists the unreserved listeners and keeps the existing reservations in the fix', () => {
    const { findings } = analyseCase(
      'listener-in-ephemeral-range.trigger',
      FIXTURE_WINDOW_SECONDS,
      [listenerInEphemeralRange],
    );
    const finding = only(findings, 'listener-in-ephemeral-range');
    expect(finding.evidence.ports).toEqual([45000]);
    expect(finding.evidence['net.ipv4.ip_local_reserved_ports']).toBe('40100');
    expect(fixLines(finding)).toEqual([
      'sysctl -w net.ipv4.ip_local_reserved_ports=40100,45000',
      "echo 'net.ipv4.ip_local_reserved_ports = 40100,45000' > /etc/sysctl.d/90-ip_local_reserved_ports.conf",
    ]);
  });
});
