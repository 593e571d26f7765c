/**
 * net/sockstat (`TCP: inuse N orphan N tw N alloc N mem N`) and net/sockstat6
 * (`TCP6: inuse N`). `inuse` and `tw` are per namespace; orphan, alloc and mem are global.
 */
import { join } from 'node:path';
import {
  parseKernelInteger,
  pickFields,
  readOptionalText,
  readRequiredText,
  SourceError,
} from './kernel-files.js';

/** The `TCP:` fields of net/sockstat; net/sockstat6's `TCP6:` line has `inuse` only. */
export const SOCKSTAT_FIELDS = ['inuse', 'orphan', 'tw', 'alloc', 'mem'] as const;
export type SockstatField = (typeof SOCKSTAT_FIELDS)[number];

/** By name, so a misspelt field is a compile error; a field the kernel lacks is absent. */
export type SockstatCounts = Readonly<Partial<Record<SockstatField, number>>>;

export interface Sockstat {
  /** From net/sockstat `TCP:` line. */
  readonly ipv4: SockstatCounts;
  /** From net/sockstat6 `TCP6:` line; absent when the file is missing. */
  readonly ipv6?: SockstatCounts;
}

/** The `name value` pairs of the line that starts with `prefix:`, or undefined without one. */
export function parseSockstatLine(
  text: string,
  prefix: string,
): Record<string, number> | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${prefix}:`));
  if (line === undefined) return undefined;
  const fields = line
    .slice(prefix.length + 1)
    .trim()
    .split(/\s+/);
  const values: Record<string, number> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = parseKernelInteger(fields[i + 1] as string);
    if (value !== undefined) values[fields[i] as string] = value;
  }
  return values;
}

export function readSockstat(procfsRoot: string): Sockstat {
  const path = join(procfsRoot, 'net/sockstat');
  const ipv4 = parseSockstatLine(readRequiredText(path), 'TCP');
  if (ipv4 === undefined) throw new SourceError(`${path}: no TCP: line`);
  const text6 = readOptionalText(join(procfsRoot, 'net/sockstat6'));
  const ipv6 = text6 === undefined ? undefined : parseSockstatLine(text6, 'TCP6');
  return ipv6 === undefined
    ? { ipv4: pickFields(ipv4, SOCKSTAT_FIELDS) }
    : { ipv4: pickFields(ipv4, SOCKSTAT_FIELDS), ipv6: pickFields(ipv6, SOCKSTAT_FIELDS) };
}

/**
 * The per-namespace fields of a namespace's sockstat: inuse of TCP and TCP6 (each counts its
 * own sockets) and tw (both families, on the TCP line); undefined if inuse or tw is absent.
 * orphan, alloc and mem are the host's, the same in every namespace.
 */
export function readNamespaceSockstat(procfsRoot: string): Sockstat | undefined {
  const { ipv4, ipv6 } = readSockstat(procfsRoot);
  if (ipv4.inuse === undefined || ipv4.tw === undefined) return undefined;
  const own = { ipv4: { inuse: ipv4.inuse, tw: ipv4.tw } };
  return ipv6?.inuse === undefined ? own : { ...own, ipv6: { inuse: ipv6.inuse } };
}
