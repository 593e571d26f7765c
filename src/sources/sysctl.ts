/**
 * The sysctls that decide TIME_WAIT and ephemeral-port behaviour, read from
 * `<procfs>/sys/net/...` (the reader's network namespace) under their dotted names.
 */
import { join } from 'node:path';
import {
  parseKernelInteger,
  readOptionalText,
  readRequiredText,
  SourceError,
} from './kernel-files.js';

/** The settings the TIME_WAIT reuse rule was applied with (this namespace's sysctls). */
export interface TimeWaitReuse {
  /** net.ipv4.tcp_tw_reuse: 0 never, 1 always, 2 with a loopback address at either end. */
  readonly twReuse: number;
  /** net.ipv4.tcp_tw_reuse_delay in ms; 1000 on kernels without it (before 6.10). */
  readonly twReuseDelayMs: number;
  /** net.ipv4.tcp_timestamps: reuse needs the connection to have carried timestamps. */
  readonly timestamps: number;
}

export interface Sysctls {
  /** Dotted name → numeric value, for the numeric sysctls that were present. */
  readonly values: Readonly<Record<string, number>>;
  readonly portRange?: { readonly low: number; readonly high: number };
  /** Parsed ip_local_reserved_ports as inclusive ranges. */
  readonly reservedPorts?: readonly (readonly [number, number])[];
}

/** Single-number sysctls; `optional` ones exist only on some kernels. */
export const NUMERIC_SYSCTLS: readonly { readonly name: string; readonly optional?: boolean }[] = [
  { name: 'net.ipv4.tcp_tw_reuse' },
  // Added in Linux 6.10; older kernels reuse after a fixed 1 s.
  { name: 'net.ipv4.tcp_tw_reuse_delay', optional: true },
  { name: 'net.ipv4.tcp_max_tw_buckets' },
  { name: 'net.ipv4.tcp_fin_timeout' },
  { name: 'net.ipv4.tcp_timestamps' },
  { name: 'net.ipv4.tcp_syncookies' },
  { name: 'net.ipv4.tcp_max_syn_backlog' },
  { name: 'net.core.somaxconn' },
  // Host-wide: /proc/sys shows it in the initial network namespace only.
  { name: 'net.ipv4.tcp_max_orphans', optional: true },
];

/** `tcp_mem`: three page counts (min, pressure, max), host-wide like tcp_max_orphans. */
export const TCP_MEM = 'net.ipv4.tcp_mem';
const TCP_MEM_PARTS = ['min', 'pressure', 'max'] as const;

export type ReservedPorts = readonly (readonly [number, number])[];

export function sysctlPath(procfsRoot: string, dottedName: string): string {
  return join(procfsRoot, 'sys', ...dottedName.split('.'));
}

function parsePort(text: string, path: string): number {
  const port = parseKernelInteger(text.trim());
  if (port === undefined || port < 0 || port > 65535) {
    throw new SourceError(`${path}: "${text.trim()}" is not a port number`);
  }
  return port;
}

/** `ip_local_reserved_ports` list syntax: `1000-1010,2000` (empty for none). */
export function parseReservedPorts(text: string, path = 'ip_local_reserved_ports'): ReservedPorts {
  const list = text.trim();
  if (list === '') return [];
  return list.split(',').map((item) => {
    const [from, to, extra] = item.split('-');
    if (from === undefined || extra !== undefined)
      throw new SourceError(`${path}: bad item "${item}"`);
    const low = parsePort(from, path);
    const high = to === undefined ? low : parsePort(to, path);
    if (high < low) throw new SourceError(`${path}: range "${item}" runs backwards`);
    return [low, high] as const;
  });
}

/** `ip_local_port_range`: two numbers separated by white space. */
export function parsePortRange(
  text: string,
  path = 'ip_local_port_range',
): { low: number; high: number } {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 2)
    throw new SourceError(`${path}: expected "LOW HIGH", got "${text.trim()}"`);
  const low = parsePort(fields[0] as string, path);
  const high = parsePort(fields[1] as string, path);
  if (high < low) throw new SourceError(`${path}: range ${low}-${high} runs backwards`);
  return { low, high };
}

/** The numeric sysctls the connect() model reads, each once per sample. */
const MODEL_SYSCTLS = [
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_tw_reuse_delay',
  'net.ipv4.tcp_timestamps',
] as const;

/** The fixed reuse delay of kernels without tcp_tw_reuse_delay (before 6.10). */
export const FIXED_TW_REUSE_DELAY_MS = 1000;

/** What the ephemeral-port model needs, as read: the values for tcpstate_sysctl too. */
export interface EphemeralSettings {
  readonly range: { low: number; high: number };
  readonly reserved: ReservedPorts;
  readonly reuse: TimeWaitReuse;
  /** The model's numeric sysctls that were present, by dotted name. */
  readonly values: Readonly<Record<string, number>>;
}

function readNumericSysctl(
  procfsRoot: string,
  name: string,
  optional: boolean | undefined,
): number | undefined {
  const path = sysctlPath(procfsRoot, name);
  const text = optional ? readOptionalText(path) : readRequiredText(path);
  if (text === undefined) return undefined;
  const value = parseKernelInteger(text.trim());
  if (value === undefined) throw new SourceError(`${path}: "${text.trim()}" is not a number`);
  return value;
}

function isOptional(name: string): boolean {
  return NUMERIC_SYSCTLS.find((sysctl) => sysctl.name === name)?.optional === true;
}

/** Port range, reserved ports and reuse settings; throws a SourceError naming the path. */
export function readEphemeralSettings(procfsRoot: string): EphemeralSettings {
  const rangePath = sysctlPath(procfsRoot, 'net.ipv4.ip_local_port_range');
  const reservedPath = sysctlPath(procfsRoot, 'net.ipv4.ip_local_reserved_ports');
  const range = parsePortRange(readRequiredText(rangePath), rangePath);
  // Kernels before 2.6.35 have no reserved ports at all.
  const reservedText = readOptionalText(reservedPath);
  const reserved = reservedText === undefined ? [] : parseReservedPorts(reservedText, reservedPath);
  const values: Record<string, number> = {
    'net.ipv4.ip_local_port_range.low': range.low,
    'net.ipv4.ip_local_port_range.high': range.high,
  };
  for (const name of MODEL_SYSCTLS) {
    const value = readNumericSysctl(procfsRoot, name, isOptional(name));
    if (value !== undefined) values[name] = value;
  }
  const reuse: TimeWaitReuse = {
    twReuse: values['net.ipv4.tcp_tw_reuse'] as number,
    twReuseDelayMs: values['net.ipv4.tcp_tw_reuse_delay'] ?? FIXED_TW_REUSE_DELAY_MS,
    timestamps: values['net.ipv4.tcp_timestamps'] as number,
  };
  return { range, reserved, reuse, values };
}

/** Every numeric sysctl; those of `settings` (read once per sample) are not read again. */
export function readSysctls(procfsRoot: string, settings: EphemeralSettings): Sysctls {
  const values: Record<string, number> = { ...settings.values };
  const alreadyRead = new Set<string>(MODEL_SYSCTLS);
  for (const { name, optional } of NUMERIC_SYSCTLS) {
    if (alreadyRead.has(name)) continue;
    const value = readNumericSysctl(procfsRoot, name, optional);
    if (value !== undefined) values[name] = value;
  }
  const tcpMemPath = sysctlPath(procfsRoot, TCP_MEM);
  const tcpMem = readOptionalText(tcpMemPath);
  if (tcpMem !== undefined) Object.assign(values, parseTcpMem(tcpMem, tcpMemPath));
  return { values, portRange: settings.range, reservedPorts: settings.reserved };
}

/** The `name.min`, `name.pressure`, `name.max` values of a `tcp_mem` text. */
export function parseTcpMem(text: string, path = 'tcp_mem'): Record<string, number> {
  const fields = text.trim().split(/\s+/);
  const pages = fields.map(parseKernelInteger);
  if (pages.length !== TCP_MEM_PARTS.length || pages.some((value) => value === undefined))
    throw new SourceError(`${path}: expected "MIN PRESSURE MAX" page counts, got "${text.trim()}"`);
  return Object.fromEntries(
    TCP_MEM_PARTS.map((part, index) => [`${TCP_MEM}.${part}`, pages[index] as number]),
  );
}
