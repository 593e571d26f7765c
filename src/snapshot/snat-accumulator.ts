/**
 * Source NAT ports held per destination (NAT address, remote address, remote port,
 * protocol), counted from the conntrack table's NATed flows, and the ports a NAT address
 * can use toward one destination. The kernel keeps every reply tuple unique, so each flow
 * of a destination holds its own NAT port: flows = ports held (docs/conntrack.md).
 */

import { join } from 'node:path';
import { formatIpv4, formatIpv6 } from '../sources/address.js';
import {
  ConntrackTableReader,
  type ConntrackTableStats,
  PORT_PROTOCOLS,
  type SnatSink,
} from '../sources/conntrack-table.js';
import { KERNEL_DEFAULT_NAT_PORTS, type NatRules, readNatRules } from '../sources/nat-rules.js';
import type { TcpTableReader } from '../sources/tcp-table.js';
import { DestinationTable } from './destination-table.js';
import { TopK } from './top-k.js';

/** The snat collector's own flags, as the engine gets them. */
export interface SnatLimits {
  readonly snatTopDestinations: number;
  /** A port count, or '' to take it from the NAT rules. */
  readonly snatUsablePorts: string;
}

export interface SnatDestination {
  readonly natAddress: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly protocol: string;
}

export interface SnatUse extends SnatDestination {
  readonly used: number;
}

/** Where the usable port count came from. */
export type UsableSource = 'flag' | 'rule' | 'kernel_default';

export interface SnatPorts {
  readonly table: ConntrackTableStats;
  /** The destinations holding most NAT ports, most first. */
  readonly destinations: readonly SnatUse[];
  /** Destinations beyond the top, and the ports they hold together. */
  readonly otherDestinations: number;
  readonly otherUsed: number;
  /** The ports the worst destination holds (0 without NATed flows). */
  readonly usedMax: number;
  /** Absent when the NAT rules could not be read and no flag sets it; see usableError. */
  readonly usable?: { readonly ports: number; readonly source: UsableSource };
  readonly usableError?: string;
}

/** The protocol rides in the key's port word, above the port and the IPv6 flag (bit 16). */
const PROTOCOL_SHIFT = 17;

class SnatCounter implements SnatSink {
  readonly table = new DestinationTable();

  addIpv4(
    protocol: number,
    nat: number,
    natPort: number,
    remote: number,
    remotePort: number,
  ): void {
    void natPort;
    const id = this.table.internIpv4(nat, remote, remotePort | (protocol << PROTOCOL_SHIFT));
    this.table.counts[id] = (this.table.counts[id] as number) + 1;
  }

  addIpv6(protocol: number, words: Int32Array, natPort: number, remotePort: number): void {
    void natPort;
    const id = this.table.internIpv6(words, 0, remotePort | (protocol << PROTOCOL_SHIFT));
    this.table.counts[id] = (this.table.counts[id] as number) + 1;
  }
}

function describeDestination(key: Int32Array): SnatDestination {
  const portWord = key[8] as number;
  const protocol = portWord >>> PROTOCOL_SHIFT;
  const ipv6 = DestinationTable.isIpv6(key);
  return {
    natAddress: ipv6
      ? formatIpv6(key[0] as number, key[1] as number, key[2] as number, key[3] as number)
      : formatIpv4(key[0] as number),
    remoteAddress: ipv6
      ? formatIpv6(key[4] as number, key[5] as number, key[6] as number, key[7] as number)
      : formatIpv4(key[4] as number),
    remotePort: DestinationTable.remotePort(key),
    protocol: PORT_PROTOCOLS[protocol] ?? String(protocol),
  };
}

/** The usable count: the flag's, else the narrowest rule range, else the kernel's default. */
export function usablePorts(
  flag: string,
  rules: () => NatRules,
): Pick<SnatPorts, 'usable' | 'usableError'> {
  if (flag !== '') return { usable: { ports: Number(flag), source: 'flag' } };
  let found: NatRules;
  try {
    found = rules();
  } catch (error) {
    return { usableError: (error as Error).message };
  }
  if (found.ranges.length === 0) {
    return { usable: { ports: KERNEL_DEFAULT_NAT_PORTS, source: 'kernel_default' } };
  }
  const narrowest = Math.min(...found.ranges.map((range) => range.high - range.low + 1));
  return { usable: { ports: narrowest, source: 'rule' } };
}

/** One sampler's reader and counts, reused from sample to sample. */
interface SnatState {
  readonly reader: ConntrackTableReader;
  readonly counter: SnatCounter;
  /** The NAT rules' reading and when it was made: listing them costs processes. */
  rules?: { readonly atMs: number; readonly usable: Pick<SnatPorts, 'usable' | 'usableError'> };
}

/** How long a reading of the NAT rules is used: they change with deployments, not per sample. */
export const NAT_RULES_REFRESH_MS = 60_000;

/** Keyed by the sampler's table reader, so each sampler keeps its own buffers. */
const STATES = new WeakMap<object, SnatState>();

/** Streams `<procfs>/net/nf_conntrack` and counts each destination's NAT ports. */
export function readSnatPorts(
  context: {
    readonly options: SnatLimits & {
      readonly procfsRoot: string;
      readonly readChunkBytes?: number;
    };
    /** The sampler's tcp table reader: this source's reader state is kept per sampler. */
    readonly tables: TcpTableReader;
  },
  rules: () => NatRules = readNatRules,
  nowMs = Date.now(),
): SnatPorts {
  const { options } = context;
  let state = STATES.get(context.tables);
  if (state === undefined) {
    state = { reader: new ConntrackTableReader(), counter: new SnatCounter() };
    STATES.set(context.tables, state);
  }
  const { reader, counter } = state;
  counter.table.clear();
  const path = join(options.procfsRoot, 'net/nf_conntrack');
  const table = reader.read(path, counter, options.readChunkBytes);
  const destinations = counter.table;
  const counts = destinations.counts;
  const top = new TopK<number>(options.snatTopDestinations, (a, b) => {
    return (counts[b] as number) - (counts[a] as number) || a - b;
  });
  let total = 0;
  for (let id = 0; id < destinations.size; id++) {
    top.offer(id);
    total += counts[id] as number;
  }
  const used = top.sorted().map((id) => ({
    ...describeDestination(destinations.key(id)),
    used: counts[id] as number,
  }));
  if (state.rules === undefined || nowMs - state.rules.atMs >= NAT_RULES_REFRESH_MS) {
    state.rules = { atMs: nowMs, usable: usablePorts(options.snatUsablePorts, rules) };
  }
  const usable = state.rules.usable;
  const keptUsed = used.reduce((sum, destination) => sum + destination.used, 0);
  return {
    table,
    destinations: used,
    otherDestinations: destinations.size - used.length,
    otherUsed: total - keptUsed,
    usedMax: used[0]?.used ?? 0,
    ...usable,
  };
}
