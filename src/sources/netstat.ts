/**
 * net/netstat (`TcpExt:`) and net/snmp (`Tcp:`): a header line of names followed by a
 * line of values with the same prefix. Field sets differ between kernels, so values are
 * matched to names, never taken by position; a field the kernel lacks stays absent.
 */
import { join } from 'node:path';
import { parseKernelInteger, pickFields, readRequiredText, SourceError } from './kernel-files.js';

/** The `TcpExt:` fields of net/netstat the exporter reads; the others are not kept. */
export const TCP_EXT_FIELDS = [
  'TW',
  'TWKilled',
  'TWRecycled',
  'TCPTimeWaitOverflow',
  'PAWSActive',
  'PAWSEstab',
  'PAWSTimewait',
  'PAWSOldAck',
  'TSEcrRejected',
  'ListenOverflows',
  'ListenDrops',
  'TCPReqQFullDrop',
  'TCPReqQFullDoCookies',
  'SyncookiesSent',
  'SyncookiesFailed',
  'TCPMemoryPressures',
  'TCPAbortOnMemory',
  'TCPSynRetrans',
  'TCPTimeouts',
  'TCPAbortOnTimeout',
  'TCPBacklogDrop',
  'TCPRcvQDrop',
  'TCPAbortOnData',
] as const;

/** The `Tcp:` fields of net/snmp the exporter reads. */
export const TCP_FIELDS = [
  'ActiveOpens',
  'PassiveOpens',
  'AttemptFails',
  'EstabResets',
  'RetransSegs',
  'OutRsts',
  // A gauge (ESTABLISHED and CLOSE_WAIT sockets): the netns round's listener bound.
  'CurrEstab',
] as const;

/** By name, so a misspelt field is a compile error; a field the kernel lacks is absent. */
export interface NetstatCounters {
  readonly tcpExt: Readonly<Partial<Record<(typeof TCP_EXT_FIELDS)[number], number>>>;
  readonly tcp: Readonly<Partial<Record<(typeof TCP_FIELDS)[number], number>>>;
}

export type CounterGroup = keyof NetstatCounters;
export type CounterField<Group extends CounterGroup> = keyof NetstatCounters[Group] & string;

/** Each group's line prefix, as the kernel and `nstat` (TcpExtListenOverflows) name it. */
export const COUNTER_PREFIXES: Readonly<Record<CounterGroup, string>> = {
  tcpExt: 'TcpExt',
  tcp: 'Tcp',
};

/** One counter by group and field. */
export type CounterRef = {
  readonly [Group in CounterGroup]: { readonly group: Group; readonly field: CounterField<Group> };
}[CounterGroup];

export function counterValue(counters: NetstatCounters, counter: CounterRef): number | undefined {
  return counter.group === 'tcp' ? counters.tcp[counter.field] : counters.tcpExt[counter.field];
}

/** `TcpExt TW`: a counter as its file names it, for help texts and messages. */
export function counterLabel(group: CounterGroup, field: string): string {
  return `${COUNTER_PREFIXES[group]} ${field}`;
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
  const tcpExt = parseNamedCounters(readRequiredText(netstatPath), COUNTER_PREFIXES.tcpExt);
  if (tcpExt === undefined)
    throw new SourceError(`${netstatPath}: no TcpExt: header and value lines`);
  const tcp = parseNamedCounters(readRequiredText(snmpPath), COUNTER_PREFIXES.tcp);
  if (tcp === undefined) throw new SourceError(`${snmpPath}: no Tcp: header and value lines`);
  return { tcpExt: pickFields(tcpExt, TCP_EXT_FIELDS), tcp: pickFields(tcp, TCP_FIELDS) };
}
