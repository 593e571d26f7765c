/**
 * Collects the sockets of one sample in columnar typed arrays (no object per socket),
 * then aggregates them. Classification waits for the end of the walk because a port
 * counts as listening if any LISTEN socket holds it, and that socket may come later
 * (tcp6 listeners after tcp4 connections, or anywhere under churn).
 */
import { performance } from 'node:perf_hooks';
import {
  formatIpv4,
  formatIpv6,
  isIpv4Loopback,
  isIpv4Mapped,
  isIpv6Loopback,
} from '../sources/address.js';
import type { TimeWaitReuse } from '../sources/sysctl.js';
import type { SocketSink } from '../sources/tcp-table.js';
import { CloseWaitTracker } from './close-wait-tracker.js';
import { DestinationTable } from './destination-table.js';
import {
  CLOSE_WAIT_INDEX,
  type Destination,
  type EphemeralPorts,
  headroomRatio,
  LISTEN_INDEX,
  type ListenQueue,
  type PortCount,
  type PortStateCounts,
  type SocketTables,
  STATE_COUNT,
  type StateCounts,
  type StuckCloseWait,
  TCP_STATES,
  TIME_WAIT_INDEX,
} from './socket-tables.js';
import { selectTop, TopK } from './top-k.js';

const PORTS = 65536;
const NO_DESTINATION = -1;
/** TIME_WAIT lasts a fixed 60 s (TCP_TIMEWAIT_LEN). */
export const TIME_WAIT_SECONDS = 60;
/** `when` counts clock ticks (USER_HZ, 100 per second on every Linux port but alpha). */
const MS_PER_TICK = 10;
/** Set in the state column for a TIME_WAIT that connect() may reuse (does not block). */
const REUSABLE = 0x80;

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/**
 * The lowest port connect() examines. __inet_hash_connect() walks an even number of ports
 * (`remaining &= ~1`): in a range of odd size, every connect() whose random start offset
 * is not 0 skips the range's lowest port (one whose offset is 0 skips the highest instead),
 * so the lowest port is left out and further connect()s may exceed the headroom by one.
 */
export function examinedLow(range: PortRange): number {
  return (range.high - range.low) % 2 === 0 && range.high > range.low ? range.low + 1 : range.low;
}

/** What the ephemeral figures are computed from: this namespace's sysctls. */
export interface EphemeralModelSettings {
  readonly range: PortRange;
  readonly reserved: readonly (readonly [number, number])[];
  readonly reuse: TimeWaitReuse;
}

export interface AggregateLimits {
  readonly maxListenPorts: number;
  readonly topRemotePorts: number;
  readonly topDestinations: number;
  /**
   * Ms a socket must be seen in CLOSE_WAIT to count as stuck; without it none are followed
   * (a sampler that reads many namespaces in turn cannot follow one's sockets).
   */
  readonly closeWaitStuckAfter?: number;
}

export type SocketAggregates = Pick<
  SocketTables,
  | 'states'
  | 'listenPorts'
  | 'remotePorts'
  | 'listenQueues'
  | 'ephemeral'
  | 'listeningPorts'
  | 'closeWaitStuck'
>;

export class SocketAccumulator implements SocketSink {
  private readonly familyStates = new Uint32Array(2 * STATE_COUNT);
  private readonly listening = new Uint8Array(PORTS);
  /** 1 where a port is inside ip_local_port_range and not reserved. */
  private readonly ephemeralEligible = new Uint8Array(PORTS);
  /** 1 where an eligible port is held by a non-LISTEN socket. */
  private readonly held = new Uint8Array(PORTS);
  /** Per listening port, its longest accept queue (set when first seen). */
  private readonly queueLength = new Uint32Array(PORTS);
  /** A TIME_WAIT with fewer ticks left than this is old enough to be reused. */
  private reusableBelowTicks = 0;
  private readonly inbound = new PortStateTable();
  private readonly outbound = new PortStateTable();
  private readonly destinations = new DestinationTable();
  private readonly closeWaits = new CloseWaitTracker();
  private readonly stuckInbound = new PortCountTable();
  private readonly stuckOutbound = new PortCountTable();
  private settings: EphemeralModelSettings | undefined;
  private count = 0;
  private stateColumn = new Uint8Array(4096);
  private localPortColumn = new Uint16Array(4096);
  private remotePortColumn = new Uint16Array(4096);
  private destinationColumn = new Int32Array(4096);

  /** Starts a sample. Without the settings the ephemeral figures are left out. */
  begin(settings: EphemeralModelSettings | undefined): void {
    this.familyStates.fill(0);
    this.listening.fill(0);
    this.ephemeralEligible.fill(0);
    this.held.fill(0);
    this.destinations.clear();
    this.closeWaits.begin();
    this.count = 0;
    this.settings = settings;
    if (settings === undefined) return;
    const { range, reserved, reuse } = settings;
    // Reused when older than the delay (tcp_twsk_unique: now after entry + delay).
    this.reusableBelowTicks = (TIME_WAIT_SECONDS * 1000 - reuse.twReuseDelayMs) / MS_PER_TICK;
    this.ephemeralEligible.fill(1, examinedLow(range), range.high + 1);
    for (const [from, to] of reserved) this.ephemeralEligible.fill(0, from, to + 1);
  }

  addIpv4(
    stateIndex: number,
    localPort: number,
    remotePort: number,
    local: number,
    remote: number,
    stateField1: number,
    stateField2: number,
  ): void {
    (this.familyStates[stateIndex] as number)++;
    if (stateIndex === LISTEN_INDEX) {
      this.addListener(localPort, stateField1);
      return;
    }
    if (stateIndex === CLOSE_WAIT_INDEX) this.closeWaits.add(stateField2, localPort, remotePort);
    let destination = NO_DESTINATION;
    let stateColumnValue = stateIndex;
    if (this.ephemeralEligible[localPort] === 1) {
      destination = this.destinations.internIpv4(local, remote, remotePort);
      if (this.destinations.reuseApplies[destination] === -1) {
        this.destinations.reuseApplies[destination] = this.reuseApplies(
          isIpv4Loopback(local) || isIpv4Loopback(remote),
        );
      }
      stateColumnValue = this.countEphemeral(stateIndex, localPort, destination, stateField2);
    }
    this.push(stateColumnValue, localPort, remotePort, destination);
  }

  addIpv6(
    stateIndex: number,
    localPort: number,
    remotePort: number,
    words: Int32Array,
    offset: number,
    stateField1: number,
    stateField2: number,
  ): void {
    (this.familyStates[STATE_COUNT + stateIndex] as number)++;
    if (stateIndex === LISTEN_INDEX) {
      this.addListener(localPort, stateField1);
      return;
    }
    if (stateIndex === CLOSE_WAIT_INDEX) this.closeWaits.add(stateField2, localPort, remotePort);
    let destination = NO_DESTINATION;
    let stateColumnValue = stateIndex;
    if (this.ephemeralEligible[localPort] === 1) {
      // An IPv4-mapped socket competes for the same 4-tuples as a plain IPv4 one.
      destination =
        isIpv4Mapped(
          words[offset] as number,
          words[offset + 1] as number,
          words[offset + 2] as number,
        ) &&
        isIpv4Mapped(
          words[offset + 4] as number,
          words[offset + 5] as number,
          words[offset + 6] as number,
        )
          ? this.destinations.internIpv4(
              words[offset + 3] as number,
              words[offset + 7] as number,
              remotePort,
            )
          : this.destinations.internIpv6(words, offset, remotePort);
      if (this.destinations.reuseApplies[destination] === -1) {
        this.destinations.reuseApplies[destination] = this.reuseApplies(
          isIpv6Loopback(
            words[offset] as number,
            words[offset + 1] as number,
            words[offset + 2] as number,
            words[offset + 3] as number,
          ) ||
            isIpv6Loopback(
              words[offset + 4] as number,
              words[offset + 5] as number,
              words[offset + 6] as number,
              words[offset + 7] as number,
            ),
        );
      }
      stateColumnValue = this.countEphemeral(stateIndex, localPort, destination, stateField2);
    }
    this.push(stateColumnValue, localPort, remotePort, destination);
  }

  /** `nowMs`: the sampler's monotonic clock, to age CLOSE_WAIT sockets. */
  finish(limits: AggregateLimits, nowMs = performance.now()): SocketAggregates {
    this.classify();
    const closeWaitStuck =
      limits.closeWaitStuckAfter === undefined
        ? undefined
        : this.stuckCloseWait(limits, limits.closeWaitStuckAfter, nowMs);
    const listeningPorts: number[] = [];
    for (let port = 0; port < PORTS; port++)
      if (this.listening[port] === 1) listeningPorts.push(port);
    const ephemeral = this.settings && this.ephemeral(this.settings, limits.topDestinations);
    const listenPorts = this.portTable(this.inbound, listeningPorts, limits.maxListenPorts).sort(
      byPortThenOther,
    );
    return {
      states: {
        ipv4: this.stateCounts(this.familyStates, 0),
        ipv6: this.stateCounts(this.familyStates, 1),
      },
      listenPorts,
      remotePorts: this.portTable(this.outbound, this.outbound.ports, limits.topRemotePorts),
      listenQueues: this.listenQueues(listenPorts, listeningPorts),
      listeningPorts,
      ...(ephemeral && { ephemeral }),
      ...(closeWaitStuck && { closeWaitStuck }),
    };
  }

  /** Stuck CLOSE_WAIT by listening local port (inbound) or else by remote port. */
  private stuckCloseWait(limits: AggregateLimits, afterMs: number, nowMs: number): StuckCloseWait {
    const inbound = this.stuckInbound;
    const outbound = this.stuckOutbound;
    inbound.clear();
    outbound.clear();
    this.closeWaits.finish(nowMs, afterMs, (localPort, remotePort) => {
      if (this.listening[localPort] === 1) inbound.add(localPort);
      else outbound.add(remotePort);
    });
    return {
      afterMs,
      inbound: inbound.top(limits.maxListenPorts),
      outbound: outbound.top(limits.topRemotePorts),
    };
  }

  /** 1 when tcp_twsk_unique() may reuse a TIME_WAIT toward a destination, else 0. */
  private reuseApplies(loopback: boolean): number {
    const reuse = (this.settings as EphemeralModelSettings).reuse;
    if (reuse.timestamps === 0) return 0;
    return reuse.twReuse === 1 || (reuse.twReuse === 2 && loopback) ? 1 : 0;
  }

  /**
   * Counts a non-LISTEN socket on an eligible port toward its destination: it blocks
   * connect() there unless it is a TIME_WAIT old enough for reuse toward a destination
   * reuse applies to (`ticksLeft`: its `when`). Returns the value for the state column.
   */
  private countEphemeral(
    stateIndex: number,
    localPort: number,
    destination: number,
    ticksLeft: number,
  ): number {
    this.held[localPort] = 1;
    const destinations = this.destinations;
    if (stateIndex === TIME_WAIT_INDEX) {
      (destinations.timeWaits[destination] as number)++;
      if (destinations.reuseApplies[destination] === 1 && ticksLeft < this.reusableBelowTicks) {
        return stateIndex | REUSABLE;
      }
    }
    (destinations.counts[destination] as number)++;
    return stateIndex;
  }

  /** Marks the port listening and keeps its longest accept queue (rx_queue). */
  private addListener(port: number, queued: number): void {
    const length = queued >>> 0;
    if (this.listening[port] === 1 && length <= (this.queueLength[port] as number)) return;
    this.listening[port] = 1;
    this.queueLength[port] = length;
  }

  private push(
    stateIndex: number,
    localPort: number,
    remotePort: number,
    destination: number,
  ): void {
    if (this.count === this.stateColumn.length) this.grow();
    const i = this.count++;
    this.stateColumn[i] = stateIndex;
    this.localPortColumn[i] = localPort;
    this.remotePortColumn[i] = remotePort;
    this.destinationColumn[i] = destination;
  }

  /**
   * Four times larger at once: the columns left behind are garbage until V8 collects
   * them, which counts in the RSS; pages of the new ones are resident only once written.
   */
  private grow(): void {
    const capacity = this.stateColumn.length * 4;
    const stateColumn = new Uint8Array(capacity);
    stateColumn.set(this.stateColumn);
    this.stateColumn = stateColumn;
    const localPortColumn = new Uint16Array(capacity);
    localPortColumn.set(this.localPortColumn);
    this.localPortColumn = localPortColumn;
    const remotePortColumn = new Uint16Array(capacity);
    remotePortColumn.set(this.remotePortColumn);
    this.remotePortColumn = remotePortColumn;
    const destinationColumn = new Int32Array(capacity);
    destinationColumn.set(this.destinationColumn);
    this.destinationColumn = destinationColumn;
  }

  /** Splits sockets into inbound (local port listening) and outbound, and drops listening ports from ephemeral use. */
  private classify(): void {
    this.inbound.clear();
    this.outbound.clear();
    const counts = this.destinations.counts;
    const timeWaits = this.destinations.timeWaits;
    for (let i = 0; i < this.count; i++) {
      const localPort = this.localPortColumn[i] as number;
      const stateValue = this.stateColumn[i] as number;
      const stateIndex = stateValue & ~REUSABLE;
      if (this.listening[localPort] === 1) {
        this.inbound.add(localPort, stateIndex);
        const destination = this.destinationColumn[i] as number;
        if (destination !== NO_DESTINATION) {
          if ((stateValue & REUSABLE) === 0) (counts[destination] as number)--;
          if (stateIndex === TIME_WAIT_INDEX) (timeWaits[destination] as number)--;
        }
      } else {
        this.outbound.add(this.remotePortColumn[i] as number, stateIndex);
      }
    }
  }

  /**
   * The accept queue of each port listenPorts lists; `other` is the longest queue of the
   * remaining listening ports, so an alert on the length still sees it.
   */
  private listenQueues(
    listenPorts: readonly PortStateCounts[],
    listeningPorts: readonly number[],
  ): ListenQueue[] {
    const listed = new Set<number | 'other'>(listenPorts.map((row) => row.port));
    const result: ListenQueue[] = [];
    let other: number | undefined;
    for (const port of listeningPorts) {
      const length = this.queueLength[port] as number;
      if (listed.has(port)) result.push({ port, length });
      else if (other === undefined || length > other) other = length;
    }
    if (other !== undefined) result.push({ port: 'other', length: other });
    return result;
  }

  private stateCounts(counts: Uint32Array, row: number): StateCounts {
    const result = {} as Record<(typeof TCP_STATES)[number], number>;
    TCP_STATES.forEach((state, index) => {
      result[state] = counts[row * STATE_COUNT + index] as number;
    });
    return result;
  }

  /** The `limit` busiest ports (ties: lower port first), the rest summed into `other`. */
  private portTable(
    table: PortStateTable,
    ports: readonly number[],
    limit: number,
  ): PortStateCounts[] {
    const top = selectTop(ports, limit, (a, b) => table.total(b) - table.total(a) || a - b);
    const result: PortStateCounts[] = top.map((port) => ({
      port,
      states: this.stateCounts(table.counts, port),
    }));
    if (ports.length > top.length) {
      const kept = new Set(top);
      const other = new Uint32Array(STATE_COUNT);
      for (const port of ports) {
        if (kept.has(port)) continue;
        for (let s = 0; s < STATE_COUNT; s++) {
          (other[s] as number) += table.counts[port * STATE_COUNT + s] as number;
        }
      }
      result.push({ port: 'other', states: this.stateCounts(other, 0) });
    }
    return result;
  }

  private ephemeral(settings: EphemeralModelSettings, topDestinations: number): EphemeralPorts {
    const { range, reuse } = settings;
    let usable = 0;
    let held = 0;
    for (let port = examinedLow(range); port <= range.high; port++) {
      if (this.ephemeralEligible[port] === 1 && this.listening[port] === 0) {
        usable++;
        held += this.held[port] as number;
      }
    }
    const counts = this.destinations.counts;
    let usedMax = 0;
    let destinationCount = 0;
    const top = new TopK<number>(topDestinations, (a, b) => this.compareDestinations(a, b));
    for (let id = 0; id < this.destinations.size; id++) {
      const used = counts[id] as number;
      if (used <= 0) continue;
      destinationCount++;
      if (used > usedMax) usedMax = used;
      top.offer(id);
    }
    return {
      rangeLow: range.low,
      rangeHigh: range.high,
      usable,
      usedMax,
      held,
      reuse,
      headroomRatio: headroomRatio(usable, usedMax),
      destinations: top.sorted().map((id) => this.describeDestination(id, reuse)),
      destinationCount,
    };
  }

  /** Most used first; ties broken by key so the order never depends on the walk. */
  private compareDestinations(a: number, b: number): number {
    const counts = this.destinations.counts;
    const byUse = (counts[b] as number) - (counts[a] as number);
    if (byUse !== 0) return byUse;
    const keyA = this.destinations.key(a);
    const keyB = this.destinations.key(b);
    for (let i = 0; i < keyA.length; i++) {
      // As unsigned words, so the order matches the addresses' hex.
      const diff = ((keyA[i] as number) >>> 0) - ((keyB[i] as number) >>> 0);
      if (diff !== 0) return diff;
    }
    return 0;
  }

  private describeDestination(id: number, reuse: TimeWaitReuse): Destination {
    const key = this.destinations.key(id);
    const word = (i: number) => key[i] as number;
    const ipv6 = DestinationTable.isIpv6(key);
    return {
      localAddress: ipv6 ? formatIpv6(word(0), word(1), word(2), word(3)) : formatIpv4(word(0)),
      remoteAddress: ipv6 ? formatIpv6(word(4), word(5), word(6), word(7)) : formatIpv4(word(4)),
      remotePort: DestinationTable.remotePort(key),
      used: this.destinations.counts[id] as number,
      timeWait: this.destinations.timeWaits[id] as number,
      holdSeconds:
        this.destinations.reuseApplies[id] === 1 ? reuse.twReuseDelayMs / 1000 : TIME_WAIT_SECONDS,
    };
  }
}

/** Socket counts per port × state; resets only the ports it touched. */
class PortStateTable {
  readonly counts = new Uint32Array(PORTS * STATE_COUNT);
  private readonly totals = new Uint32Array(PORTS);
  /** Ports with at least one socket, in first-seen order. */
  readonly ports: number[] = [];

  add(port: number, stateIndex: number): void {
    if (this.totals[port] === 0) this.ports.push(port);
    (this.totals[port] as number)++;
    (this.counts[port * STATE_COUNT + stateIndex] as number)++;
  }

  total(port: number): number {
    return this.totals[port] as number;
  }

  clear(): void {
    for (const port of this.ports) {
      this.totals[port] = 0;
      this.counts.fill(0, port * STATE_COUNT, (port + 1) * STATE_COUNT);
    }
    this.ports.length = 0;
  }
}

/** A count per port; resets only the ports it touched. */
class PortCountTable {
  private readonly counts = new Uint32Array(PORTS);
  private readonly ports: number[] = [];

  add(port: number): void {
    if (this.counts[port] === 0) this.ports.push(port);
    (this.counts[port] as number)++;
  }

  /** The `limit` ports with most (ties: lower port first), the rest summed into `other`. */
  top(limit: number): PortCount[] {
    const counts = this.counts;
    const top = selectTop(
      this.ports,
      limit,
      (a, b) => (counts[b] as number) - (counts[a] as number) || a - b,
    );
    const result: PortCount[] = top.map((port) => ({ port, count: counts[port] as number }));
    let other = 0;
    for (const port of this.ports) other += counts[port] as number;
    for (const row of result) other -= row.count;
    if (other > 0) result.push({ port: 'other', count: other });
    return result;
  }

  clear(): void {
    for (const port of this.ports) this.counts[port] = 0;
    this.ports.length = 0;
  }
}

function byPortThenOther(a: PortStateCounts, b: PortStateCounts): number {
  if (a.port === 'other') return 1;
  if (b.port === 'other') return -1;
  return a.port - b.port;
}
