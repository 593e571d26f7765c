/**
 * One round over every network namespace of the node: discover them, resolve owners, get
 * each one's sysctls and its O(1) files (net/sockstat, net/netstat, net/snmp) through
 * `<procfs>/<pid>`, walk its socket tables with the engine only when they could matter (see
 * walkReason; each walk reads the whole shared socket hash), then keep the most loaded ones.
 * Each namespace fails alone (its process exited mid-round); nothing throws out of run().
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ConntrackStats, parseConntrackStats } from '../sources/conntrack-stats.js';
import { readOptionalText } from '../sources/kernel-files.js';
import { type DiscoveredNamespace, discoverNamespaces } from '../sources/netns-discovery.js';
import { OwnerResolver } from '../sources/netns-owner.js';
import { assumedNamespaceSysctls, type NamespaceSysctls } from '../sources/netns-sysctl.js';
import type { NamespaceSysctlCache } from '../sources/netns-sysctl-cache.js';
import { type NetstatCounters, readNetstat } from '../sources/netstat.js';
import { readNamespaceSockstat, type Sockstat } from '../sources/sockstat.js';
import { boundedEphemeral, type NamespaceLoad, namespaceLoad } from './netns-bound.js';
import type { NamespaceFailure, NamespaceSample, NetnsRound } from './netns-view.js';
import { createRootSampler, type RootSampler } from './sample.js';
import {
  type EphemeralPorts,
  type Family,
  isExhausted,
  type StateCounts,
} from './socket-tables.js';
import type { SampleOptions } from './source-readers.js';

/**
 * Namespace sysctls by entering each namespace (NamespaceSysctlCache): fresh() answers from
 * its cache or waits for a due read, with a new namespace's defaults marked assumed when
 * the namespace cannot be entered; evictExcept() forgets the namespaces that are gone.
 */
export type NamespaceSysctlReader = Pick<NamespaceSysctlCache, 'fresh' | 'evictExcept'>;

/**
 * The sysctls tcpstate_sysctl exports per namespace: what the connect() model uses and
 * tcp_fin_timeout (orphaned FIN_WAIT2 sockets hold ports that long).
 */
export const EXPORTED_NAMESPACE_SYSCTLS = [
  'net.ipv4.ip_local_port_range.low',
  'net.ipv4.ip_local_port_range.high',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_tw_reuse_delay',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_fin_timeout',
] as const;

export interface NetnsRoundOptions {
  /** The node's procfs root, `/proc` (or `/host/proc` in a container). */
  readonly procfsRoot: string;
  /** `--path.pod-logs`. */
  readonly podLogsDir: string;
  /** `--collector.netns.max`: namespaces exported, most sockets first. */
  readonly max: number;
  /** `--collector.netns.top-destinations`. */
  readonly topDestinations: number;
  /** `--collector.netns.walk-max-age`: a namespace's tables are walked at least this often. */
  readonly walkMaxAgeMs: number;
  /**
   * Walk when the namespace's sockets could hold this share of its usable ports toward one
   * destination: below it, no destination can be near the warning line.
   */
  readonly walkUseRatio: number;
  /** --collector.conntrack: read each namespace's net/stat/nf_conntrack where it has one. */
  readonly conntrack?: boolean;
}

/** What a walk found, kept to stand for the namespace in the rounds that do not walk it. */
interface LastWalk {
  readonly pid: number;
  readonly timestampMs: number;
  /** inuse + tw when it walked. */
  readonly sockets: number;
  /** ActiveOpens + PassiveOpens read before the walk: sockets opened since are beyond it. */
  readonly opens?: number;
  readonly states: Record<Family, StateCounts>;
  readonly ephemeral: EphemeralPorts;
  /** The port range, reserved ports and reuse settings the model used. */
  readonly settings: string;
}

/**
 * A change of inuse + tw since the last walk this large (a quarter, and at least this many
 * sockets) makes its state counts and destinations worth reading again.
 */
const MOVED_SHARE = 0.25;
const MOVED_MIN = 32;

/**
 * Past this much of a round's walks (one walk at least), walks that can wait (a first walk, an aged or moved one) are
 * left to the next round, which finds the done ones skippable: the round ends well within
 * the worker's timeout (30 s at least) even when every namespace of a busy node is new.
 * A namespace near the warning line is walked whatever the time.
 */
export const DEFERRABLE_WALKS_BUDGET_MS = 10_000;

/** Why a namespace's tables are walked this round, or undefined when its bound suffices. */
export function walkReason(
  last:
    | Pick<LastWalk, 'pid' | 'timestampMs' | 'sockets' | 'opens' | 'ephemeral' | 'settings'>
    | undefined,
  now: { readonly pid: number; readonly timestampMs: number; readonly settings: string },
  load: NamespaceLoad | undefined,
  options: Pick<NetnsRoundOptions, 'walkMaxAgeMs' | 'walkUseRatio'>,
): 'first' | 'unbounded' | 'settings' | 'age' | 'near' | 'moved' | undefined {
  if (last === undefined || last.pid !== now.pid) return 'first';
  if (load === undefined) return 'unbounded';
  if (last.settings !== now.settings) return 'settings';
  if (now.timestampMs - last.timestampMs >= options.walkMaxAgeMs) return 'age';
  const safe = boundedEphemeral(last.ephemeral, last.opens, load);
  if (safe.usable === 0 || safe.usedMax / safe.usable >= options.walkUseRatio) return 'near';
  const moved = Math.abs(load.sockets - last.sockets);
  if (moved >= Math.max(MOVED_MIN, MOVED_SHARE * last.sockets)) return 'moved';
  return undefined;
}

/**
 * A namespace's conntrack entries and events (its limit is the one nf_conntrack_max the node
 * exports); undefined without the file (no nf_conntrack) or when it is malformed: no guess.
 */
function namespaceConntrack(processRoot: string): Omit<ConntrackStats, 'limit'> | undefined {
  const path = join(processRoot, 'net/stat/nf_conntrack');
  try {
    const text = readOptionalText(path);
    return text === undefined ? undefined : parseConntrackStats(text, path);
  } catch {
    return undefined;
  }
}

/** The engine's options for a namespace: tables and counters; port breakdowns are not exported. */
function namespaceSampleOptions(topDestinations: number): Omit<SampleOptions, 'procfsRoot'> {
  return {
    maxListenPorts: 1,
    topRemotePorts: 1,
    topDestinations,
    snatTopDestinations: 1,
    snatUsablePorts: '',
    sources: {
      sockets: true,
      sockstat: false,
      netstat: false,
      sysctl: false,
      conntrack: false,
      snat: false,
      udp: false,
    },
  };
}

function sumStates(states: Record<Family, StateCounts>): number {
  let total = 0;
  for (const counts of Object.values(states)) {
    for (const count of Object.values(counts)) total += count;
  }
  return total;
}

function exportedSysctls(values: Readonly<Record<string, number>>): Record<string, number> {
  const exported: Record<string, number> = {};
  for (const name of EXPORTED_NAMESPACE_SYSCTLS) {
    const value = values[name];
    if (value !== undefined) exported[name] = value;
  }
  return exported;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class NetnsRoundSampler {
  private readonly sampler: RootSampler;
  private readonly owners: OwnerResolver;
  private readonly walks = new Map<number, LastWalk>();
  /** Per namespace: rounds in which it was exhausted, counted while it is present. */
  private readonly exhaustedRounds = new Map<number, number>();

  constructor(
    private readonly options: NetnsRoundOptions,
    private readonly readSysctls: NamespaceSysctlReader,
    /** Called between discovery and reading; tests make a process exit there. */
    private readonly afterDiscovery: (
      namespaces: readonly DiscoveredNamespace[],
    ) => void = () => {},
    /** DEFERRABLE_WALKS_BUDGET_MS; tests shorten it. */
    private readonly deferAfterMs = DEFERRABLE_WALKS_BUDGET_MS,
  ) {
    this.sampler = createRootSampler(namespaceSampleOptions(options.topDestinations));
    this.owners = new OwnerResolver(options.procfsRoot, options.podLogsDir);
  }

  async run(): Promise<NetnsRound> {
    const timestampMs = Date.now();
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    let namespaces: readonly DiscoveredNamespace[];
    try {
      namespaces = discoverNamespaces(this.options.procfsRoot).namespaces;
    } catch (error) {
      return {
        timestampMs,
        durationSeconds: elapsed(),
        namespaces: [],
        dropped: 0,
        walked: 0,
        deferred: 0,
        failures: [],
        error: message(error),
      };
    }
    await this.afterDiscovery(namespaces);
    const present = new Set(namespaces.map((found) => found.inode));
    for (const known of [this.walks, this.exhaustedRounds]) {
      for (const inode of known.keys()) if (!present.has(inode)) known.delete(inode);
    }
    this.owners.beginRound(namespaces.map((found) => found.inode));
    this.readSysctls.evictExcept(namespaces.map((found) => found.inode));
    // All at once: the reader bounds its children and answers from its cache when it can.
    const sysctls = await Promise.all(
      namespaces.map((found) =>
        this.readSysctls
          .fresh(found.inode, this.nsFile(found))
          .catch((error: unknown) => assumedNamespaceSysctls(message(error))),
      ),
    );
    const samples: NamespaceSample[] = [];
    const failures: NamespaceFailure[] = [];
    let walked = 0;
    let deferred = 0;
    // From the first walk, not the round's start: waiting for sysctl readers walks nothing.
    const walksStarted = performance.now();
    for (const [index, found] of namespaces.entries()) {
      // One walk at least, so that rounds make progress however slow each walk is.
      const mayDefer = walked > 0 && performance.now() - walksStarted >= this.deferAfterMs;
      const sampled = this.sampleNamespace(found, sysctls[index] as NamespaceSysctls, mayDefer);
      if ('error' in sampled) {
        failures.push(sampled);
        continue;
      }
      if (sampled.deferred) deferred++;
      if (sampled.sample === undefined) continue;
      samples.push(sampled.sample);
      if (sampled.walked) walked++;
    }
    samples.sort((a, b) => b.socketCount - a.socketCount || a.inode - b.inode);
    const kept = samples.slice(0, this.options.max);
    return {
      timestampMs,
      durationSeconds: elapsed(),
      namespaces: kept,
      dropped: samples.length - kept.length,
      failures,
      walked,
      deferred,
    };
  }

  private nsFile(found: DiscoveredNamespace): string {
    return join(this.options.procfsRoot, String(found.pid), 'ns/net');
  }

  private sampleNamespace(
    found: DiscoveredNamespace,
    sysctls: NamespaceSysctls,
    mayDefer: boolean,
  ):
    | { readonly sample?: NamespaceSample; readonly walked: boolean; readonly deferred: boolean }
    | NamespaceFailure {
    const { inode, pid } = found;
    const processRoot = join(this.options.procfsRoot, String(pid));
    const fail = (error: string): NamespaceFailure => ({ inode, pid, error });
    const owner = this.owners.resolve(inode, pid);
    if (owner === undefined) return fail(`process ${pid} exited before its cgroup was read`);
    let sockstat: Sockstat | undefined;
    let netstat: NetstatCounters;
    try {
      sockstat = readNamespaceSockstat(processRoot);
      netstat = readNetstat(processRoot);
    } catch (error) {
      return fail(message(error));
    }
    const conntrack = this.options.conntrack ? namespaceConntrack(processRoot) : undefined;
    const now = { pid, timestampMs: Date.now(), settings: JSON.stringify(sysctls.ephemeral) };
    const last = this.walks.get(inode);
    let walk: LastWalk;
    const load = sockstat === undefined ? undefined : namespaceLoad(sockstat, netstat);
    const reason = walkReason(last, now, load, this.options);
    // Only walks whose bounds stay safe meanwhile wait: not near, unbounded or new settings.
    const deferred = mayDefer && (reason === 'first' || reason === 'age' || reason === 'moved');
    // A namespace never walked has nothing to show until its first walk.
    if (deferred && last === undefined) return { walked: false, deferred };
    const walks = !deferred && reason !== undefined;
    // walkReason says 'first' without a last walk; the compiler needs it said here too.
    if (walks || last === undefined) {
      const snapshot = this.sampler.sample(processRoot, sysctls);
      const { sockets } = snapshot;
      if (snapshot.sources.sockets?.success === false) {
        return fail(snapshot.sources.sockets.error ?? 'read failed');
      }
      if (sockets?.ephemeral === undefined) return fail(sockets?.ephemeralError ?? 'no data');
      walk = {
        pid,
        timestampMs: now.timestampMs,
        sockets: load?.sockets ?? sumStates(sockets.states),
        ...(load?.opens === undefined ? {} : { opens: load.opens }),
        states: sockets.states,
        ephemeral: sockets.ephemeral,
        settings: now.settings,
      };
      this.walks.set(inode, walk);
    } else {
      walk = last;
    }
    const ephemeral =
      walks || load === undefined
        ? walk.ephemeral
        : boundedEphemeral(walk.ephemeral, walk.opens, load);
    // A bound that reaches usable is near the line, so walked: exhausted is a walk's truth.
    const exhaustedRounds =
      (this.exhaustedRounds.get(inode) ?? 0) + (isExhausted(ephemeral) ? 1 : 0);
    this.exhaustedRounds.set(inode, exhaustedRounds);
    const sample: NamespaceSample = {
      inode,
      pid,
      process: found.process,
      owner,
      states: walk.states,
      socketCount: sumStates(walk.states),
      ephemeral,
      exhaustedRounds,
      walkTimestampMs: walk.timestampMs,
      ...(sockstat === undefined ? {} : { sockstat }),
      ...(conntrack === undefined ? {} : { conntrack }),
      netstat,
      sysctls: exportedSysctls(sysctls.sysctls.values),
      sysctlsAssumed: sysctls.assumed,
    };
    return { sample, walked: walks, deferred };
  }
}
