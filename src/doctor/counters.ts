/** Kernel counters over the window, named as `nstat` names them (TcpExtListenOverflows). */
import type { Snapshot } from '../snapshot/model.js';
import {
  COUNTER_PREFIXES,
  type CounterField,
  type CounterRef,
  counterValue,
} from '../sources/netstat.js';

const tcp = (fields: readonly CounterField<'tcp'>[]): CounterRef[] =>
  fields.map((field) => ({ group: 'tcp', field }));
const tcpExt = (fields: readonly CounterField<'tcpExt'>[]): CounterRef[] =>
  fields.map((field) => ({ group: 'tcpExt', field }));

/** The counters doctor shows, in the order it shows them. */
export const SHOWN_COUNTERS: readonly CounterRef[] = [
  ...tcp(['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets']),
  ...tcpExt(['TW', 'TWRecycled', 'TWKilled', 'TCPTimeWaitOverflow']),
  ...tcpExt(['ListenOverflows', 'ListenDrops', 'PAWSActive', 'PAWSEstab']),
  ...tcpExt(['PAWSTimewait', 'TCPReqQFullDrop', 'TCPReqQFullDoCookies']),
  ...tcpExt(['SyncookiesSent', 'SyncookiesFailed']),
  ...tcpExt(['TCPMemoryPressures', 'TCPAbortOnMemory']),
];

export function nstatName(counter: CounterRef): string {
  return `${COUNTER_PREFIXES[counter.group]}${counter.field}`;
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
  return snapshot.netstat === undefined ? undefined : counterValue(snapshot.netstat, counter);
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
