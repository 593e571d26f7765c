/**
 * The sysctls that decide TIME_WAIT and ephemeral-port behaviour under their dotted names,
 * read from `<procfs>/sys/net/...` (the reader's network namespace) or from any other
 * SysctlSource (netns-sysctl.ts: the text a child inside another namespace printed).
 */
import { join } from 'node:path';
import { parseKernelInteger, readOptionalText, SourceError } from './kernel-files.js';

/** The settings the TIME_WAIT reuse rule was applied with (this namespace's sysctls). */
export interface TimeWaitReuse {
  /** net.ipv4.tcp_tw_reuse: 0 never, 1 always, 2 with a loopback address at either end. */
  readonly twReuse: number;
  /**
   * net.ipv4.tcp_tw_reuse_delay in ms; 1000 on kernels without it (before 6.14), which reuse
   * from the next wall-clock second after the last timestamp received: 0-1 s, at most 1000.
   */
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

/**
 * Single-number sysctls; `optional` ones exist only on some kernels. `hostOnly` ones are
 * host-wide: /proc/sys shows them in the initial network namespace only; all others are
 * per network namespace (checked by setting each in one namespace and reading the host's).
 */
export const NUMERIC_SYSCTLS: readonly {
  readonly name: string;
  readonly optional?: boolean;
  readonly hostOnly?: boolean;
}[] = [
  { name: 'net.ipv4.tcp_tw_reuse' },
  // Added in Linux 6.14; older kernels reuse from the next wall-clock second (0-1 s).
  { name: 'net.ipv4.tcp_tw_reuse_delay', optional: true },
  { name: 'net.ipv4.tcp_max_tw_buckets' },
  // 6.1+: the established hash's size; its half is tcp_max_tw_buckets' default (negative in
  // a namespace that shares the host's hash).
  { name: 'net.ipv4.tcp_ehash_entries', optional: true },
  { name: 'net.ipv4.tcp_fin_timeout' },
  // Removed in Linux 4.12: present only on older kernels, where doctor flags it when on.
  { name: 'net.ipv4.tcp_tw_recycle', optional: true },
  { name: 'net.ipv4.tcp_timestamps' },
  { name: 'net.ipv4.tcp_syncookies' },
  { name: 'net.ipv4.tcp_max_syn_backlog' },
  { name: 'net.core.somaxconn' },
  { name: 'net.ipv4.tcp_max_orphans', optional: true, hostOnly: true },
];

/** `tcp_mem`: three page counts (min, pressure, max), host-wide like tcp_max_orphans. */
export const TCP_MEM = 'net.ipv4.tcp_mem';
const TCP_MEM_PARTS = ['min', 'pressure', 'max'] as const;

export type ReservedPorts = readonly (readonly [number, number])[];

export const PORT_RANGE = 'net.ipv4.ip_local_port_range';
export const RESERVED_PORTS = 'net.ipv4.ip_local_reserved_ports';

export function sysctlPath(procfsRoot: string, dottedName: string): string {
  return join(procfsRoot, 'sys', ...dottedName.split('.'));
}

/** Where sysctl texts come from: files under a procfs root, or text read elsewhere. */
export interface SysctlSource {
  /** The sysctl's text, undefined when the kernel lacks it; other errors throw a SourceError. */
  text(dottedName: string): string | undefined;
  /** How errors name the sysctl (its path). */
  describe(dottedName: string): string;
  /** Knows only some sysctls (a table of defaults): every sysctl is then optional. */
  readonly partial?: boolean;
}

export function procfsSysctls(procfsRoot: string): SysctlSource {
  return {
    text: (name) => readOptionalText(sysctlPath(procfsRoot, name)),
    describe: (name) => sysctlPath(procfsRoot, name),
  };
}

function requiredText(source: SysctlSource, name: string): string {
  const text = source.text(name);
  if (text === undefined) {
    throw new SourceError(`cannot read ${source.describe(name)}: ENOENT (no such file)`);
  }
  return text;
}

/** Every per-namespace sysctl by dotted name: what a read inside a namespace asks for. */
export const NAMESPACE_SYSCTL_NAMES: readonly string[] = [
  PORT_RANGE,
  RESERVED_PORTS,
  ...NUMERIC_SYSCTLS.filter((sysctl) => !sysctl.hostOnly).map((sysctl) => sysctl.name),
];

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

/**
 * The reuse delay assumed on kernels without tcp_tw_reuse_delay (before 6.14): they reuse once
 * the wall-clock second has changed since the last timestamp received, 0-1 s; 1 s is the most.
 */
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
  source: SysctlSource,
  name: string,
  optional: boolean | undefined,
): number | undefined {
  const text = optional || source.partial ? source.text(name) : requiredText(source, name);
  if (text === undefined) return undefined;
  const value = parseKernelInteger(text.trim());
  if (value === undefined) {
    throw new SourceError(`${source.describe(name)}: "${text.trim()}" is not a number`);
  }
  return value;
}

function isOptional(name: string): boolean {
  return NUMERIC_SYSCTLS.find((sysctl) => sysctl.name === name)?.optional === true;
}

/** Port range, reserved ports and reuse settings; throws a SourceError naming the path. */
export function readEphemeralSettings(source: SysctlSource): EphemeralSettings {
  const range = parsePortRange(requiredText(source, PORT_RANGE), source.describe(PORT_RANGE));
  // Kernels before 2.6.35 have no reserved ports at all.
  const reservedText = source.text(RESERVED_PORTS);
  const reserved =
    reservedText === undefined
      ? []
      : parseReservedPorts(reservedText, source.describe(RESERVED_PORTS));
  const values: Record<string, number> = {
    'net.ipv4.ip_local_port_range.low': range.low,
    'net.ipv4.ip_local_port_range.high': range.high,
  };
  for (const name of MODEL_SYSCTLS) {
    const value = readNumericSysctl(source, name, isOptional(name));
    if (value !== undefined) values[name] = value;
  }
  const reuse: TimeWaitReuse = {
    twReuse: values['net.ipv4.tcp_tw_reuse'] as number,
    twReuseDelayMs: values['net.ipv4.tcp_tw_reuse_delay'] ?? FIXED_TW_REUSE_DELAY_MS,
    timestamps: values['net.ipv4.tcp_timestamps'] as number,
  };
  return { range, reserved, reuse, values };
}

/**
 * The numeric sysctls: with scope `namespace` the per-namespace ones only, with `all` the
 * host-wide ones too (where `source` shows them). Those of `settings` (read once per sample)
 * are not read again.
 */
export function readSysctls(
  source: SysctlSource,
  settings: EphemeralSettings,
  scope: 'all' | 'namespace' = 'all',
): Sysctls {
  const values: Record<string, number> = { ...settings.values };
  const alreadyRead = new Set<string>(MODEL_SYSCTLS);
  for (const { name, optional, hostOnly } of NUMERIC_SYSCTLS) {
    if (alreadyRead.has(name) || hostOnly) continue;
    const value = readNumericSysctl(source, name, optional);
    if (value !== undefined) values[name] = value;
  }
  if (scope === 'all') Object.assign(values, readHostOnlySysctls(source));
  return { values, portRange: settings.range, reservedPorts: settings.reserved };
}

/** tcp_mem and tcp_max_orphans where `source` shows them (the host's namespace), else none. */
export function readHostOnlySysctls(source: SysctlSource): Record<string, number> {
  const values: Record<string, number> = {};
  for (const { name, optional, hostOnly } of NUMERIC_SYSCTLS) {
    if (!hostOnly) continue;
    const value = readNumericSysctl(source, name, optional);
    if (value !== undefined) values[name] = value;
  }
  const tcpMem = source.text(TCP_MEM);
  if (tcpMem !== undefined) Object.assign(values, parseTcpMem(tcpMem, source.describe(TCP_MEM)));
  return values;
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
