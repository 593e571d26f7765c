import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { bindFirstPortsLow } from '../../../src/doctor/checks/bind-first-ports-low.js';
import { analyseCase, only, sampleTree, socketCount } from '../../../testkit/doctor/check-runs.js';
import { doctorCase, FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [bindFirstPortsLow];

describe('bind-first-ports-low', () => {
  it('gives the held figure against usable and names IP_BIND_ADDRESS_NO_PORT', () => {
    const testCase = doctorCase('bind-first-ports-low.trigger');
    const { findings } = analyseCase(testCase.name, FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'bind-first-ports-low');
    const held = socketCount(testCase.tree, (socket) => socket.state === 'established');
    expect(finding.evidence).toMatchObject({ held, usable: 100, left: 100 - held });
    expect(finding.evidence.usedMax).toBeLessThan(held);
    expect(JSON.stringify(finding.fix)).toContain('IP_BIND_ADDRESS_NO_PORT');
  });

  it('is a warning past the warning share and never critical, since /proc cannot show bind()', () => {
    const crowded = sampleTree({
      sysctls: { 'net.ipv4.ip_local_port_range': '40000 40099' },
      sockets: Array.from({ length: 10 }, (_, index) => ({
        state: 'established' as const,
        local: `198.18.0.2:${40000 + index * 10}`,
        remote: `198.18.0.1:${9001 + index}`,
        count: 10,
      })),
    });
    const finding = only(analyse(crowded, crowded, 0, checks).findings, 'bind-first-ports-low');
    expect(finding.evidence.held).toBe(100);
    expect(finding.severity).toBe('warning');
  });
});
