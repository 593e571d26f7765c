import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { ephemeralHeadroomLow } from '../../../src/doctor/checks/ephemeral-headroom-low.js';
import {
  analyseCase,
  fixLines,
  only,
  realFixLines,
  reliefLines,
  sampleTree,
  socketCount,
} from '../../../testkit/doctor/check-runs.js';
import { doctorCase, FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [ephemeralHeadroomLow];

describe('ephemeral-headroom-low', () => {
  it('names the destination with its use against the usable ports', () => {
    const testCase = doctorCase('ephemeral-headroom-low.trigger');
    const { findings } = analyseCase(testCase.name, FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'ephemeral-headroom-low');
    const used = socketCount(testCase.tree, (socket) => socket.remote === '198.18.0.1:8080');
    expect(finding.evidence).toMatchObject({
      localAddress: '198.18.0.2',
      remoteAddress: '198.18.0.1',
      remotePort: 8080,
      used,
      usable: 100,
      'net.ipv4.ip_local_port_range': '40000 40099',
    });
    expect(finding.summary).toContain('198.18.0.2 -> 198.18.0.1:8080');
    expect(finding.evidence.left).toBe(100 - used);
    // Keepalive for the upstream is the fix; sysctls only relieve it meanwhile.
    const fix = realFixLines(finding);
    expect(fix).toContain('    keepalive 32;');
    expect(fix).toContain('proxy_http_version 1.1;');
    expect(fix).toContain('proxy_set_header Connection "";');
    expect(fix.some((line) => line.startsWith('sysctl'))).toBe(false);
    const relief = reliefLines(finding);
    expect(relief).toContain('sysctl -w net.ipv4.ip_local_port_range="10000 65535"');
    // Non-loopback TIME_WAIT with tcp_tw_reuse=2: reuse does not apply yet, so =1 helps.
    expect(relief).toContain('sysctl -w net.ipv4.tcp_tw_reuse=1');
  });

  it('never advises tcp_tw_reuse where the blocking sockets are not TIME_WAIT', () => {
    const snapshot = sampleTree({
      sysctls: { 'net.ipv4.ip_local_port_range': '40000 40099', 'net.ipv4.tcp_tw_reuse': 0 },
      sockets: [
        { state: 'established', local: '198.18.0.2:40000', remote: '198.18.0.1:5432', count: 85 },
      ],
    });
    // Every check: tw-reuse-off must stay quiet too.
    const { findings } = analyse(snapshot, snapshot, 0);
    const finding = only(findings, 'ephemeral-headroom-low');
    expect(finding.severity).toBe('critical');
    expect(fixLines(finding).some((line) => line.includes('tcp_tw_reuse'))).toBe(false);
    expect(findings.map((found) => found.id)).not.toContain('tw-reuse-off');
  });

  it('reserves the listening ports a wider range would cover', () => {
    const snapshot = sampleTree({
      sysctls: { 'net.ipv4.ip_local_port_range': '40000 40099' },
      sockets: [
        { state: 'listen', local: '0.0.0.0:20000' },
        { state: 'listen', local: '0.0.0.0:8080' },
        { state: 'time_wait', local: '198.18.0.2:40000', remote: '198.18.0.1:443', count: 90 },
      ],
    });
    const finding = only(analyse(snapshot, snapshot, 0, checks).findings, 'ephemeral-headroom-low');
    expect(finding.severity).toBe('critical');
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.ip_local_reserved_ports=20000');
  });

  it('reserves, before widening, the UDP servers and a Kubernetes node ports the wider range reaches', () => {
    const crowded = {
      state: 'established',
      local: '198.18.0.2:40000',
      remote: '198.18.0.1:443',
      count: 90,
    } as const;
    const node = sampleTree({
      sysctls: {
        'net.ipv4.ip_local_port_range': '40000 40099',
        'net.ipv4.ip_local_reserved_ports': '50000',
      },
      sockets: [{ state: 'listen', local: '0.0.0.0:10250' }, crowded],
      udp: [
        { local: '0.0.0.0:20053' },
        { local: '[::]:50000' },
        // Inside today's range: most likely a client that sent without binding.
        { local: '0.0.0.0:40050' },
        // Connected: a client.
        { local: '198.18.0.2:25000', remote: '198.18.0.1:53' },
      ],
    });
    const finding = only(analyse(node, node, 0, checks).findings, 'ephemeral-headroom-low');
    const relief = reliefLines(finding);
    const reserve =
      'sysctl -w net.ipv4.ip_local_reserved_ports=10248-10256,20053,30000-32767,50000';
    expect(relief).toContain(reserve);
    expect(relief.indexOf(reserve)).toBeLessThan(
      relief.indexOf('sysctl -w net.ipv4.ip_local_port_range="10000 65535"'),
    );
    const steps = finding.stopTheBleeding.map((step) => step.step).join('\n');
    expect(steps).toContain('TCP listeners 10250; UDP listeners 20053');
    expect(steps).toContain('NodePort range 30000-32767 (this is a Kubernetes node)');
    expect(steps).toContain('what /proc cannot show');

    const plain = sampleTree({
      sysctls: { 'net.ipv4.ip_local_port_range': '40000 40099' },
      sockets: [crowded],
    });
    const quiet = only(analyse(plain, plain, 0, checks).findings, 'ephemeral-headroom-low');
    expect(reliefLines(quiet).some((line) => line.includes('reserved_ports'))).toBe(false);
    const said = quiet.stopTheBleeding.map((step) => step.step).join('\n');
    expect(said).toContain('On a Kubernetes node, reserve the NodePort range (30000-32767');
    expect(said).toContain('UDP listeners (net/udp was not read)');
  });

  it('is critical when no port is usable at all', () => {
    const snapshot = sampleTree({
      sysctls: {
        'net.ipv4.ip_local_port_range': '40000 40001',
        'net.ipv4.ip_local_reserved_ports': '40000-40001',
      },
    });
    const finding = only(analyse(snapshot, snapshot, 0, checks).findings, 'ephemeral-headroom-low');
    expect(finding.severity).toBe('critical');
    expect(finding.evidence.usable).toBe(0);
  });

  it('is skipped, with the reason, when the port range cannot be read', () => {
    const snapshot = sampleTree({ sysctls: { 'net.ipv4.ip_local_port_range': null } });
    const { skipped } = analyse(snapshot, snapshot, 0, checks);
    const entry = skipped.find((check) => check.id === 'ephemeral-headroom-low');
    expect(entry?.reason).toContain('ip_local_port_range');
  });
});
