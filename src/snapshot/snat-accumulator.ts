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
  type NatDestinationKey,
  PORT_PROTOCOLS,
} from '../sources/conntrack-table.js';
import { KERNEL_DEFAULT_NAT_PORTS, type NatRules, readNatRules } from '../sources/nat-rules.js';
import type { TcpTableReader } from '../sources/tcp-table.js';
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

function describeDestination(key: NatDestinationKey): SnatDestination {
  const { nat, remote } = key;
  return {
    natAddress: key.ipv6 ? formatIpv6(...nat) : formatIpv4(nat[0]),
    remoteAddress: key.ipv6 ? formatIpv6(...remote) : formatIpv4(remote[0]),
    remotePort: key.remotePort,
    protocol: PORT_PROTOCOLS[key.protocol] ?? String(key.protocol),
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

/** One sampler's reader (and its counts), reused from sample to sample. */
interface SnatState {
  readonly reader: ConntrackTableReader;
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
    state = { reader: new ConntrackTableReader() };
    STATES.set(context.tables, state);
  }
  const { reader } = state;
  const path = join(options.procfsRoot, 'net/nf_conntrack');
  const table = reader.read(path, options.readChunkBytes);
  const top = new TopK<number>(options.snatTopDestinations, (a, b) => {
    return reader.countAt(b) - reader.countAt(a) || a - b;
  });
  const slots = reader.slots;
  for (let slot = 0; slot < slots; slot++) if (reader.countAt(slot) > 0) top.offer(slot);
  const used = top.sorted().map((slot) => ({
    ...describeDestination(reader.destinationAt(slot)),
    used: reader.countAt(slot),
  }));
  if (state.rules === undefined || nowMs - state.rules.atMs >= NAT_RULES_REFRESH_MS) {
    state.rules = { atMs: nowMs, usable: usablePorts(options.snatUsablePorts, rules) };
  }
  const usable = state.rules.usable;
  const keptUsed = used.reduce((sum, destination) => sum + destination.used, 0);
  return {
    table,
    destinations: used,
    otherDestinations: reader.destinations - used.length,
    otherUsed: table.natted - keptUsed,
    usedMax: used[0]?.used ?? 0,
    ...usable,
  };
}
