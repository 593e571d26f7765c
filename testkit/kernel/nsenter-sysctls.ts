/**
 * A namespace sysctl reader for tests until the exporter's own lands: `nsenter --net`
 * then reads /proc/sys, which shows the reader's namespace. Needs root.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { NamespaceSysctls } from '../../src/sources/netns-sysctl-placeholder.js';
import {
  FIXED_TW_REUSE_DELAY_MS,
  parsePortRange,
  parseReservedPorts,
  type ReservedPorts,
} from '../../src/sources/sysctl.js';

const NUMERIC = [
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_tw_reuse_delay',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_fin_timeout',
];

/** NamespaceSysctls from values by dotted name (the port range as `.low` and `.high`). */
export function namespaceSysctls(
  values: Readonly<Record<string, number>>,
  reserved: ReservedPorts = [],
): NamespaceSysctls {
  const range = {
    low: values['net.ipv4.ip_local_port_range.low'] as number,
    high: values['net.ipv4.ip_local_port_range.high'] as number,
  };
  const reuse = {
    twReuse: values['net.ipv4.tcp_tw_reuse'] as number,
    twReuseDelayMs: values['net.ipv4.tcp_tw_reuse_delay'] ?? FIXED_TW_REUSE_DELAY_MS,
    timestamps: values['net.ipv4.tcp_timestamps'] as number,
  };
  return {
    ephemeral: { range, reserved, reuse, values },
    sysctls: { values, portRange: range, reservedPorts: reserved },
    assumed: false,
  };
}

export async function nsenterSysctls(_inode: number, nsFile: string): Promise<NamespaceSysctls> {
  const names = ['net.ipv4.ip_local_port_range', 'net.ipv4.ip_local_reserved_ports', ...NUMERIC];
  const paths = names.map((name) => `/proc/sys/${name.replaceAll('.', '/')}`);
  const script = paths.map((path) => `cat ${path} || echo`).join('; ');
  const { stdout } = await promisify(execFile)('nsenter', [`--net=${nsFile}`, 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const lines = stdout.split('\n');
  const range = parsePortRange(lines[0] ?? '');
  const values: Record<string, number> = {
    'net.ipv4.ip_local_port_range.low': range.low,
    'net.ipv4.ip_local_port_range.high': range.high,
  };
  NUMERIC.forEach((name, index) => {
    const text = lines[index + 2]?.trim();
    if (text) values[name] = Number(text);
  });
  return namespaceSysctls(values, parseReservedPorts(lines[1] ?? ''));
}
