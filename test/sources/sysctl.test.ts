import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parsePortRange,
  parseReservedPorts,
  parseTcpMem,
  procfsSysctls,
  readEphemeralSettings,
  readSysctls,
} from '../../src/sources/sysctl.js';
import { writeProcfsTree } from '../../testkit/kernel/procfs-tree.js';

describe('ip_local_reserved_ports', () => {
  it.each([
    ['\n', []],
    ['', []],
    ['9000\n', [[9000, 9000]]],
    [
      '1000-1010,2000\n',
      [
        [1000, 1010],
        [2000, 2000],
      ],
    ],
    [
      '40000-40010,45000,50000-50001\n',
      [
        [40000, 40010],
        [45000, 45000],
        [50000, 50001],
      ],
    ],
  ])('%j parses', (text, expected) => {
    expect(parseReservedPorts(text)).toEqual(expected);
  });

  it.each(['1000-', 'abc', '1000-999', '70000', '1-2-3', '1000,,2000'])(
    '%j is rejected with the path',
    (text) => {
      expect(() => parseReservedPorts(text, '/p/ip_local_reserved_ports')).toThrow(
        /\/p\/ip_local_reserved_ports/,
      );
    },
  );
});

describe('ip_local_port_range', () => {
  it('parses the tab-separated pair', () => {
    expect(parsePortRange('32768\t60999\n')).toEqual({ low: 32768, high: 60999 });
  });
  it.each(['32768\n', '60999 32768', 'a b', '1 2 3'])('%j is rejected', (text) => {
    expect(() => parsePortRange(text)).toThrow();
  });
});

describe('tcp_mem and tcp_max_orphans', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  function tree(sysctls: Readonly<Record<string, string | number | null>>): string {
    const root = mkdtempSync(join(tmpdir(), 'tsd-sysctl-'));
    roots.push(root);
    writeProcfsTree(root, { sysctls });
    return root;
  }

  it('parses the three page counts as .min, .pressure and .max', () => {
    expect(parseTcpMem('287892\t383858\t575784\n')).toEqual({
      'net.ipv4.tcp_mem.min': 287892,
      'net.ipv4.tcp_mem.pressure': 383858,
      'net.ipv4.tcp_mem.max': 575784,
    });
  });

  it.each(['1 2', '1 2 3 4', 'a b c', ''])('rejects %j with the path', (text) => {
    expect(() => parseTcpMem(text, '/p/tcp_mem')).toThrow(/\/p\/tcp_mem/);
  });

  it('reads both where /proc/sys shows them (the host namespace)', () => {
    const root = tree({ 'net.ipv4.tcp_mem': '100 200 300', 'net.ipv4.tcp_max_orphans': 4096 });
    const values = readSysctls(
      procfsSysctls(root),
      readEphemeralSettings(procfsSysctls(root)),
    ).values;
    expect(values).toMatchObject({
      'net.ipv4.tcp_mem.min': 100,
      'net.ipv4.tcp_mem.pressure': 200,
      'net.ipv4.tcp_mem.max': 300,
      'net.ipv4.tcp_max_orphans': 4096,
    });
  });

  it('leaves both out in another namespace, where /proc/sys lacks the files', () => {
    const root = tree({});
    const values = readSysctls(
      procfsSysctls(root),
      readEphemeralSettings(procfsSysctls(root)),
    ).values;
    expect(Object.keys(values).filter((name) => /tcp_mem|tcp_max_orphans/.test(name))).toEqual([]);
    expect(values['net.ipv4.tcp_tw_reuse']).toBe(2);
  });
});
