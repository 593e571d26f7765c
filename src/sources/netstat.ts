/**
 * net/netstat (`TcpExt:`) and net/snmp (`Tcp:`): a header line of names followed by a
 * line of values with the same prefix. Field sets differ between kernels, so values are
 * matched to names, never taken by position; a field the kernel lacks stays absent.
 */
import { join } from 'node:path';
import { parseKernelInteger, readRequiredText, SourceError } from './kernel-files.js';

export interface NetstatCounters {
  /** `TcpExt:` fields of net/netstat by name. A field the kernel lacks is absent. */
  readonly tcpExt: Readonly<Record<string, number>>;
  /** `Tcp:` fields of net/snmp by name. */
  readonly tcp: Readonly<Record<string, number>>;
}

export function parseNamedCounters(
  text: string,
  prefix: string,
): Record<string, number> | undefined {
  const lines = text.split('\n').filter((line) => line.startsWith(`${prefix}: `));
  const [header, values] = lines;
  if (header === undefined || values === undefined) return undefined;
  const names = header
    .slice(prefix.length + 2)
    .trim()
    .split(/\s+/);
  const numbers = values
    .slice(prefix.length + 2)
    .trim()
    .split(/\s+/);
  if (names.length !== numbers.length) return undefined;
  const counters: Record<string, number> = {};
  names.forEach((name, index) => {
    const value = parseKernelInteger(numbers[index] as string);
    if (value !== undefined) counters[name] = value;
  });
  return counters;
}

export function readNetstat(procfsRoot: string): NetstatCounters {
  const netstatPath = join(procfsRoot, 'net/netstat');
  const snmpPath = join(procfsRoot, 'net/snmp');
  const tcpExt = parseNamedCounters(readRequiredText(netstatPath), 'TcpExt');
  if (tcpExt === undefined)
    throw new SourceError(`${netstatPath}: no TcpExt: header and value lines`);
  const tcp = parseNamedCounters(readRequiredText(snmpPath), 'Tcp');
  if (tcp === undefined) throw new SourceError(`${snmpPath}: no Tcp: header and value lines`);
  return { tcpExt, tcp };
}
