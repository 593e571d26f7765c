/** Kernel counters over the window, named as `nstat` names them (TcpExtListenOverflows). */
import type { Snapshot } from '../snapshot/model.js';

export type CounterGroup = 'tcpExt' | 'tcp';

export interface CounterRef {
  readonly group: CounterGroup;
  /** The kernel's field name: `ListenOverflows`. */
  readonly field: string;
}

function counterRefs(group: CounterGroup, fields: readonly string[]): CounterRef[] {
  return fields.map((field) => ({ group, field }));
}

/** The counters doctor shows, in the order it shows them. */
export const SHOWN_COUNTERS: readonly CounterRef[] = [
  ...counterRefs('tcp', ['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets']),
  ...counterRefs('tcpExt', ['TW', 'TWRecycled', 'TWKilled', 'TCPTimeWaitOverflow']),
  ...counterRefs('tcpExt', ['ListenOverflows', 'ListenDrops', 'PAWSActive', 'PAWSEstab']),
  ...counterRefs('tcpExt', ['PAWSTimewait', 'TCPReqQFullDrop', 'TCPReqQFullDoCookies']),
  ...counterRefs('tcpExt', ['SyncookiesSent', 'SyncookiesFailed']),
  ...counterRefs('tcpExt', ['TCPMemoryPressures', 'TCPAbortOnMemory']),
];

export function nstatName(counter: CounterRef): string {
  return `${counter.group === 'tcp' ? 'Tcp' : 'TcpExt'}${counter.field}`;
}

export interface CounterChange {
  readonly name: string;
  /** Since boot (or since the namespace was made), at the second sample. */
  readonly total: number;
  /** Rise over the window; undefined without a window or when the counter went backwards. */
  readonly delta?: number;
  readonly perSecond?: number;
}

function value(snapshot: Snapshot, counter: CounterRef): number | undefined {
  return snapshot.netstat?.[counter.group][counter.field];
}

/** Undefined when the second sample lacks the counter (kernel without it, or unreadable). */
export function counterChange(
  first: Snapshot,
  second: Snapshot,
  windowSeconds: number,
  counter: CounterRef,
): CounterChange | undefined {
  const total = value(second, counter);
  if (total === undefined) return undefined;
  const before = value(first, counter);
  const name = nstatName(counter);
  if (windowSeconds <= 0 || before === undefined || total < before) return { name, total };
  const delta = total - before;
  return { name, total, delta, perSecond: round(delta / windowSeconds, 2) };
}

export function round(number: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(number * scale) / scale;
}
