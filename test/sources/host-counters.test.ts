/**
 * The newer counters and host-wide sysctls against the running kernel: each is read by name
 * where the kernel has it, and tcp_mem / tcp_max_orphans exist only where /proc/sys shows
 * them (the host's network namespace), compared with what `sysctl` and `ip netns exec` see.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { TCP_EXT_FIELDS } from '../../src/sources/netstat.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { sampleInNamespace } from '../../testkit/kernel/netns-sampler.js';

/** The TcpExt names the kernel prints, read independently of the engine. */
function kernelTcpExtNames(): string[] {
  const header = execFileSync('cat', ['/proc/net/netstat'], { encoding: 'utf8' })
    .split('\n')
    .find((line) => line.startsWith('TcpExt:'));
  return (header ?? '').split(/\s+/).slice(1);
}

describe.skipIf(!canRun('host counter test', { netns: true, commands: ['sysctl'] }))(
  'the newer counters on the running kernel',
  () => {
    const lab = new NetnsLab('tsh');
    afterAll(() => lab.close());

    it('reads each TcpExt field it knows exactly where the kernel prints it', () => {
      const names = kernelTcpExtNames();
      const tcpExt = sampleProcfs({ procfsRoot: '/proc' }).netstat?.tcpExt ?? {};
      for (const field of TCP_EXT_FIELDS)
        expect(field in tcpExt, field).toBe(names.includes(field));
    });

    it('reads tcp_mem and tcp_max_orphans in the host namespace as sysctl shows them', () => {
      const values = sampleProcfs({ procfsRoot: '/proc' }).sysctl?.values ?? {};
      const [min, pressure, max] = execFileSync('sysctl', ['-n', 'net.ipv4.tcp_mem'], {
        encoding: 'utf8',
      })
        .trim()
        .split(/\s+/)
        .map(Number);
      expect(values).toMatchObject({
        'net.ipv4.tcp_mem.min': min,
        'net.ipv4.tcp_mem.pressure': pressure,
        'net.ipv4.tcp_mem.max': max,
        'net.ipv4.tcp_max_orphans': Number(
          execFileSync('sysctl', ['-n', 'net.ipv4.tcp_max_orphans'], { encoding: 'utf8' }),
        ),
      });
    });

    it('leaves them out in another network namespace, where /proc/sys lacks them', () => {
      const ns = lab.addNamespace('x');
      const shown = lab.exec(ns, 'sh', [
        '-c',
        'ls /proc/sys/net/ipv4/ | grep -c "^tcp_mem$" || true',
      ]);
      expect(shown.trim()).toBe('0');
      const snapshot = sampleInNamespace(lab, ns);
      expect(snapshot.sources.sysctl?.success).toBe(true);
      const names = Object.keys(snapshot.sysctl?.values ?? {});
      expect(names.filter((name) => /tcp_mem|tcp_max_orphans/.test(name))).toEqual([]);
      // sockstat mem is host-wide and still there.
      expect(snapshot.sockstat?.ipv4.mem).toBeGreaterThanOrEqual(0);
    });
  },
);
