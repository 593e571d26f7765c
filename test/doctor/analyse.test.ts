import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleProcfs } from '../../src/config/defaults.js';
import { formatPortList, mergePorts } from '../../src/doctor/advice.js';
import { analyse } from '../../src/doctor/analyse.js';
import { type Finding, type FindingId, severityRank } from '../../src/doctor/finding.js';
import { PAWS_WARNING_PER_SECOND } from '../../src/doctor/thresholds.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import {
  DOCTOR_CASES,
  doctorCase,
  FIXTURE_WINDOW_SECONDS,
  sampleCase,
} from '../../testkit/doctor/doctor-fixtures.js';
import { type ProcfsTreeSpec, writeProcfsTree } from '../../testkit/kernel/procfs-tree.js';

function analyseCase(name: string, windowSeconds = FIXTURE_WINDOW_SECONDS) {
  const { first, second } = sampleCase(doctorCase(name));
  return analyse(first, second, windowSeconds);
}

function only(findings: readonly Finding[], id: FindingId): Finding {
  const matching = findings.filter((finding) => finding.id === id);
  expect(matching, `exactly one ${id}`).toHaveLength(1);
  return matching[0] as Finding;
}

/** Every command and configuration line of a finding: stop-the-bleeding steps, then the fix. */
function fixLines(finding: Finding): string[] {
  return [...finding.stopTheBleeding, ...finding.fix].flatMap((step) => step.lines ?? []);
}

function realFixLines(finding: Finding): string[] {
  return finding.fix.flatMap((step) => step.lines ?? []);
}

function reliefLines(finding: Finding): string[] {
  return finding.stopTheBleeding.flatMap((step) => step.lines ?? []);
}

/** Sockets the case's tree holds that match, summed over their counts. */
function socketCount(
  spec: ProcfsTreeSpec,
  match: (socket: { state: string; local: string; remote?: string }) => boolean,
): number {
  return (spec.sockets ?? []).filter(match).reduce((sum, socket) => sum + (socket.count ?? 1), 0);
}

const scratch = mkdtempSync(join(tmpdir(), 'tsd-analyse-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let scratchCounter = 0;

/** Samples an ad-hoc tree (both samples the same tree). */
function sampleTree(spec: ProcfsTreeSpec): Snapshot {
  scratchCounter += 1;
  const root = join(scratch, String(scratchCounter));
  writeProcfsTree(root, spec);
  return sampleProcfs({ procfsRoot: root });
}

describe.each(DOCTOR_CASES)('fixture $name', (testCase) => {
  it('reports what the tree shows and nothing it must not', () => {
    const { findings } = analyseCase(testCase.name);
    for (const [id, severity] of Object.entries(testCase.expected)) {
      const matching = findings.filter((finding) => finding.id === id);
      expect(matching.length, `${id} present`).toBeGreaterThan(0);
      expect(matching.map((finding) => finding.severity)).toContain(severity);
    }
    for (const id of testCase.absent) {
      expect(findings.map((finding) => finding.id)).not.toContain(id);
    }
  });

  it('orders findings most severe first', () => {
    const ranks = analyseCase(testCase.name).findings.map((finding) =>
      severityRank(finding.severity),
    );
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  });
});

describe('ephemeral-headroom-low', () => {
  it('names the destination with its use against the usable ports', () => {
    const testCase = doctorCase('ephemeral-headroom-low.trigger');
    const finding = only(analyseCase(testCase.name).findings, 'ephemeral-headroom-low');
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
    const finding = only(analyse(snapshot, snapshot, 0).findings, 'ephemeral-headroom-low');
    expect(finding.severity).toBe('critical');
    expect(fixLines(finding).some((line) => line.includes('tcp_tw_reuse'))).toBe(false);
    expect(analyse(snapshot, snapshot, 0).findings.map((found) => found.id)).not.toContain(
      'tw-reuse-off',
    );
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
    const finding = only(analyse(snapshot, snapshot, 0).findings, 'ephemeral-headroom-low');
    expect(finding.severity).toBe('critical');
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.ip_local_reserved_ports=20000');
  });

  it('is critical when no port is usable at all', () => {
    const snapshot = sampleTree({
      sysctls: {
        'net.ipv4.ip_local_port_range': '40000 40001',
        'net.ipv4.ip_local_reserved_ports': '40000-40001',
      },
    });
    const finding = only(analyse(snapshot, snapshot, 0).findings, 'ephemeral-headroom-low');
    expect(finding.severity).toBe('critical');
    expect(finding.evidence.usable).toBe(0);
  });

  it('is skipped, with the reason, when the port range cannot be read', () => {
    const snapshot = sampleTree({ sysctls: { 'net.ipv4.ip_local_port_range': null } });
    const { skipped } = analyse(snapshot, snapshot, 0);
    const entry = skipped.find((check) => check.id === 'ephemeral-headroom-low');
    expect(entry?.reason).toContain('ip_local_port_range');
  });
});

describe('listener-in-ephemeral-range', () => {
  it('lists the unreserved listeners and keeps the existing reservations in the fix', () => {
    const finding = only(
      analyseCase('listener-in-ephemeral-range.trigger').findings,
      'listener-in-ephemeral-range',
    );
    expect(finding.evidence.ports).toEqual([45000]);
    expect(finding.evidence['net.ipv4.ip_local_reserved_ports']).toBe('40100');
    expect(fixLines(finding)).toEqual([
      'sysctl -w net.ipv4.ip_local_reserved_ports=40100,45000',
      "echo 'net.ipv4.ip_local_reserved_ports = 40100,45000' > /etc/sysctl.d/90-ip_local_reserved_ports.conf",
    ]);
  });
});

describe('time-wait-near-bucket-limit and time-wait-overflow', () => {
  it('compares all TIME_WAIT with tcp_max_tw_buckets and tells inbound from outbound', () => {
    const testCase = doctorCase('time-wait-near-bucket-limit.trigger');
    const finding = only(analyseCase(testCase.name).findings, 'time-wait-near-bucket-limit');
    const timeWait = socketCount(testCase.tree, (socket) => socket.state === 'time_wait');
    expect(finding.evidence).toMatchObject({
      timeWait,
      inboundTimeWait: timeWait,
      outboundTimeWait: 0,
      'net.ipv4.tcp_max_tw_buckets': 100,
    });
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.tcp_max_tw_buckets=200');
  });

  it('reports the overflow counter rise and its rate over the window', () => {
    const finding = only(analyseCase('time-wait-overflow.trigger').findings, 'time-wait-overflow');
    expect(finding.evidence).toMatchObject({
      'TcpExtTCPTimeWaitOverflow.delta': 250,
      'TcpExtTCPTimeWaitOverflow.perSecond': 250 / FIXTURE_WINDOW_SECONDS,
      'TcpExtTCPTimeWaitOverflow.total': 1450,
    });
  });
});

describe('client-side-time-wait', () => {
  it('recommends FastCGI keepalive and a unix socket for a local php-fpm on 9000', () => {
    const testCase = doctorCase('client-side-time-wait.trigger');
    const finding = only(analyseCase(testCase.name).findings, 'client-side-time-wait');
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
    const finding = only(
      analyseCase('client-side-time-wait.trigger').findings,
      'client-side-time-wait',
    );
    expect(finding.explanation).toMatch(/SO_LINGER[^.]*RST[^.]*lost/);
    expect(fixLines(finding).join('\n')).not.toContain('SO_LINGER');
  });

  it('recommends HTTP keepalive, and no unix socket, for a remote upstream', () => {
    const finding = only(analyseCase('tw-reuse-off.trigger').findings, 'client-side-time-wait');
    expect(finding.evidence).toMatchObject({ remotePort: 8080, localBackend: 'no' });
    const lines = fixLines(finding);
    expect(lines).toContain('    server 198.18.5.5:8080;');
    expect(lines).toContain('proxy_http_version 1.1;');
    expect(lines.some((line) => line.includes('unix:'))).toBe(false);
  });
});

describe('tw-reuse-off', () => {
  it('explains tcp_tw_reuse=1, its need for timestamps, and that it only affects connect()', () => {
    const finding = only(analyseCase('tw-reuse-off.trigger').findings, 'tw-reuse-off');
    expect(finding.evidence['net.ipv4.tcp_tw_reuse']).toBe(2);
    expect(finding.explanation).toContain('net.ipv4.tcp_timestamps=1');
    expect(finding.explanation).toContain('only affects outgoing connections');
    expect(fixLines(finding)[0]).toBe('sysctl -w net.ipv4.tcp_tw_reuse=1');
  });

  it('turns timestamps on first when they are off', () => {
    const base = doctorCase('tw-reuse-off.trigger').tree;
    const snapshot = sampleTree({
      ...base,
      sysctls: { ...base.sysctls, 'net.ipv4.tcp_timestamps': 0 },
    });
    const finding = only(analyse(snapshot, snapshot, 0).findings, 'tw-reuse-off');
    expect(fixLines(finding).slice(0, 1)).toEqual(['sysctl -w net.ipv4.tcp_timestamps=1']);
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.tcp_tw_reuse=1');
  });

  it('counts loopback destinations too when tcp_tw_reuse is 0', () => {
    const base = doctorCase('tw-reuse-off.quiet').tree;
    const snapshot = sampleTree({
      ...base,
      sysctls: { ...base.sysctls, 'net.ipv4.tcp_tw_reuse': 0 },
    });
    const finding = only(analyse(snapshot, snapshot, 0).findings, 'tw-reuse-off');
    expect(finding.summary).toContain('off');
  });

  it('says nothing when tcp_tw_reuse is already 1', () => {
    const base = doctorCase('tw-reuse-off.trigger').tree;
    const snapshot = sampleTree({
      ...base,
      sysctls: { ...base.sysctls, 'net.ipv4.tcp_tw_reuse': 1 },
    });
    const ids = analyse(snapshot, snapshot, 0).findings.map((finding) => finding.id);
    expect(ids).toContain('client-side-time-wait');
    expect(ids).not.toContain('tw-reuse-off');
  });
});

describe('close-wait-accumulating', () => {
  it('names the port and the command that finds the process', () => {
    const testCase = doctorCase('close-wait-accumulating.trigger');
    const finding = only(analyseCase(testCase.name).findings, 'close-wait-accumulating');
    const closeWait = socketCount(testCase.tree, (socket) => socket.state === 'close_wait');
    expect(finding.evidence).toMatchObject({
      direction: 'inbound',
      localPort: 8080,
      closeWait,
      closeWaitFirstSample: closeWait,
    });
    expect(fixLines(finding)).toEqual(["ss -tanp state close-wait '( sport = :8080 )'"]);
    expect(finding.explanation).toContain('no sysctl');
  });

  it('ignores CLOSE_WAIT that was not there at the first sample', () => {
    const before = sampleCase(doctorCase('close-wait-accumulating.quiet')).second;
    const after = sampleCase(doctorCase('close-wait-accumulating.trigger')).second;
    const ids = analyse(before, after, FIXTURE_WINDOW_SECONDS).findings.map(
      (finding) => finding.id,
    );
    expect(ids).not.toContain('close-wait-accumulating');
  });
});

describe('listen-overflows', () => {
  it('gives the counter rises, somaxconn and the listeners with half-open connections', () => {
    const finding = only(analyseCase('listen-overflows.trigger').findings, 'listen-overflows');
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

describe('paws-rejects', () => {
  it('is a warning at one reject a second or more, info below', () => {
    const fast = only(analyseCase('paws-rejects.trigger').findings, 'paws-rejects');
    expect(fast.severity).toBe('warning');
    expect(fast.evidence['TcpExtPAWSEstab.delta']).toBe(10);
    // The same rise over a window long enough to fall under the rate.
    const slowWindow = (10 / PAWS_WARNING_PER_SECOND) * 2;
    const slow = only(analyseCase('paws-rejects.trigger', slowWindow).findings, 'paws-rejects');
    expect(slow.severity).toBe('info');
  });
});

describe('counter checks', () => {
  it('are skipped with a window of 0, the others still run', () => {
    const { second } = sampleCase(doctorCase('listen-overflows.trigger'));
    const { findings, skipped } = analyse(second, second, 0);
    const needWindow = skipped.filter((check) => check.reason.includes('window'));
    expect(needWindow.map((check) => check.id).sort()).toEqual(
      ['listen-overflows', 'paws-rejects', 'syn-queue-overflow', 'time-wait-overflow'].sort(),
    );
    expect(findings.map((finding) => finding.id)).not.toContain('listen-overflows');
  });

  it('are skipped, naming the file, when net/netstat is missing', () => {
    const snapshot = sampleTree({ omit: ['net/netstat'] });
    const { skipped } = analyse(snapshot, snapshot, FIXTURE_WINDOW_SECONDS);
    const reasons = skipped.filter((check) => check.id === 'listen-overflows');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]?.reason).toContain('netstat');
  });

  it('are skipped when the kernel lacks the counter', () => {
    const snapshot = sampleTree({ netstat: { TCPTimeWaitOverflow: null } });
    const { skipped } = analyse(snapshot, snapshot, FIXTURE_WINDOW_SECONDS);
    expect(skipped).toContainEqual({
      id: 'time-wait-overflow',
      reason: 'this kernel has no TCPTimeWaitOverflow counter',
    });
  });
});

describe('reserved port lists', () => {
  it('merges new ports into the kernel list syntax', () => {
    const merged = mergePorts([[40000, 40010]], [40011, 9000, 40005]);
    expect(merged).toEqual([
      [9000, 9000],
      [40000, 40011],
    ]);
    expect(formatPortList(merged)).toBe('9000,40000-40011');
  });
});

describe('TIME_WAIT that connect() may reuse', () => {
  it('says the loopback TIME_WAIT is reusable under tcp_tw_reuse=2 and gives both rates', () => {
    const testCase = doctorCase('client-side-time-wait.trigger');
    const { second } = sampleCase(testCase);
    const usable = second.sockets?.ephemeral?.usable ?? Number.NaN;
    const delayMs = second.sockets?.ephemeral?.reuse.twReuseDelayMs ?? Number.NaN;
    const finding = only(analyseCase(testCase.name).findings, 'client-side-time-wait');
    expect(finding.severity).toBe('info');
    expect(finding.evidence).toMatchObject({
      reusable: 'yes',
      connectionsPerSecondLimit: usable / (delayMs / 1000),
      connectionsPerSecondWithoutReuse: Math.round((usable / 60) * 10) / 10,
    });
    expect(finding.explanation).toContain('reusable');
    expect(finding.explanation).not.toMatch(/fails with EADDRNOTAVAIL/);
    const ids = analyseCase(testCase.name).findings.map((found) => found.id);
    expect(ids).not.toContain('tw-reuse-off');
  });

  it('says the same for any destination with tcp_tw_reuse=1, and advises no reuse setting', () => {
    const base = doctorCase('tw-reuse-off.trigger').tree;
    const snapshot = sampleTree({
      ...base,
      sysctls: { ...base.sysctls, 'net.ipv4.tcp_tw_reuse': 1 },
    });
    const { findings } = analyse(snapshot, snapshot, 0);
    const finding = only(findings, 'client-side-time-wait');
    expect(finding.evidence.reusable).toBe('yes');
    expect(finding.severity).toBe('info');
    for (const found of findings)
      expect(fixLines(found).some((line) => line.includes('tcp_tw_reuse'))).toBe(false);
  });

  it('is a warning with the 60 s rate when reuse does not apply', () => {
    const finding = only(analyseCase('tw-reuse-off.trigger').findings, 'client-side-time-wait');
    expect(finding.severity).toBe('warning');
    expect(finding.evidence.reusable).toBe('no');
    expect(finding.evidence.connectionsPerSecondLimit).toBe(
      finding.evidence.connectionsPerSecondWithoutReuse,
    );
  });
});

describe('bind-first-ports-low', () => {
  it('gives the held figure against usable and names IP_BIND_ADDRESS_NO_PORT', () => {
    const testCase = doctorCase('bind-first-ports-low.trigger');
    const finding = only(analyseCase(testCase.name).findings, 'bind-first-ports-low');
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
    const finding = only(analyse(crowded, crowded, 0).findings, 'bind-first-ports-low');
    expect(finding.evidence.held).toBe(100);
    expect(finding.severity).toBe('warning');
  });
});

describe('findings from the newer counters', () => {
  it('syn-queue-overflow reports the SYN cookie rise', () => {
    const finding = only(analyseCase('syn-queue-overflow.trigger').findings, 'syn-queue-overflow');
    expect(finding.evidence['TcpExtTCPReqQFullDoCookies.delta']).toBeGreaterThan(0);
    expect(finding.evidence['TcpExtTCPReqQFullDrop.delta']).toBe(0);
  });

  it('syn-queue-overflow is a warning for any dropped SYN and advises SYN cookies when off', () => {
    const base = doctorCase('syn-queue-overflow.quiet');
    const first = sampleTree({ ...base.tree, netstat: { TCPReqQFullDrop: 5 } });
    const second = sampleTree({
      ...base.tree,
      sysctls: { 'net.ipv4.tcp_syncookies': 0 },
      netstat: { TCPReqQFullDrop: 6 },
    });
    const finding = only(analyse(first, second, 100).findings, 'syn-queue-overflow');
    expect(finding.severity).toBe('warning');
    expect(fixLines(finding)).toContain('sysctl -w net.ipv4.tcp_syncookies=1');
  });

  it('orphans-near-limit compares sockstat orphans with tcp_max_orphans', () => {
    const finding = only(analyseCase('orphans-near-limit.trigger').findings, 'orphans-near-limit');
    expect(finding.evidence).toMatchObject({ orphans: 500, 'net.ipv4.tcp_max_orphans': 1000 });
  });

  it('tcp-memory-pressure is critical at tcp_mem max and when aborts rise', () => {
    const base = doctorCase('tcp-memory-pressure.trigger').tree;
    const atMax = sampleTree({ ...base, sockstat: { mem: 3000 } });
    expect(only(analyse(atMax, atMax, 0).findings, 'tcp-memory-pressure').severity).toBe(
      'critical',
    );
    const quiet = doctorCase('tcp-memory-pressure.quiet').tree;
    const before = sampleTree({ ...quiet, netstat: { TCPAbortOnMemory: 1 } });
    const after = sampleTree({ ...quiet, netstat: { TCPAbortOnMemory: 4 } });
    const aborted = only(analyse(before, after, 2).findings, 'tcp-memory-pressure');
    expect(aborted.severity).toBe('critical');
    expect(aborted.evidence['TcpExtTCPAbortOnMemory.delta']).toBe(3);
  });

  it('orphans and memory are skipped with a reason outside the host namespace', () => {
    const snapshot = sampleTree({});
    const { skipped } = analyse(snapshot, snapshot, 0);
    const reason = skipped.find((check) => check.id === 'orphans-near-limit')?.reason;
    expect(reason).toMatch(/host's network namespace/);
  });
});
