/**
 * A namespace sysctl reader for tests until the exporter's own lands: `nsenter --net`
 * then reads /proc/sys, which shows the reader's namespace. Needs root.
 */
import { execFileSync } from 'node:child_process';
import type { NamespaceSysctls } from '../../src/sources/netns-sysctl-placeholder.js';
import { parsePortRange, parseReservedPorts } from '../../src/sources/sysctl.js';

const NUMERIC = [
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_tw_reuse_delay',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_fin_timeout',
];

export function nsenterSysctls(nsPath: string): NamespaceSysctls {
  const names = ['net.ipv4.ip_local_port_range', 'net.ipv4.ip_local_reserved_ports', ...NUMERIC];
  const paths = names.map((name) => `/proc/sys/${name.replaceAll('.', '/')}`);
  const script = paths.map((path) => `cat ${path} || echo`).join('; ');
  const lines = execFileSync('nsenter', [`--net=${nsPath}`, 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 10_000,
  }).split('\n');
  const range = parsePortRange(lines[0] ?? '');
  const values: Record<string, number> = {
    'net.ipv4.ip_local_port_range.low': range.low,
    'net.ipv4.ip_local_port_range.high': range.high,
  };
  NUMERIC.forEach((name, index) => {
    const text = lines[index + 2]?.trim();
    if (text) values[name] = Number(text);
  });
  return { values, reserved: parseReservedPorts(lines[1] ?? ''), assumed: false };
}
