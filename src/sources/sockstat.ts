/**
 * net/sockstat (`TCP: inuse N orphan N tw N alloc N mem N`) and net/sockstat6
 * (`TCP6: inuse N`). `inuse` and `tw` are per namespace; orphan, alloc and mem are global.
 */
import { join } from 'node:path';
import {
  parseKernelInteger,
  readOptionalText,
  readRequiredText,
  SourceError,
} from './kernel-files.js';

export interface Sockstat {
  /** From net/sockstat `TCP:` line; absent fields are left out. */
  readonly ipv4: Readonly<Record<string, number>>;
  /** From net/sockstat6 `TCP6:` line; absent when the file is missing. */
  readonly ipv6?: Readonly<Record<string, number>>;
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
  return ipv6 === undefined ? { ipv4 } : { ipv4, ipv6 };
}
