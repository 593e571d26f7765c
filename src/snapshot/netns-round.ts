/**
 * One round over every network namespace of the node: discover them, resolve owners, get
 * each one's sysctls, read its socket tables and counters through `<procfs>/<pid>` with the
 * engine, then keep the most loaded ones. Each namespace fails alone (its process exited
 * mid-round); nothing throws out of run().
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type DiscoveredNamespace, discoverNamespaces } from '../sources/netns-discovery.js';
import { type NamespaceOwner, OwnerResolver } from '../sources/netns-owner.js';
import type {
  NamespaceSysctlReader,
  NamespaceSysctls,
} from '../sources/netns-sysctl-placeholder.js';
import { type EphemeralSettings, FIXED_TW_REUSE_DELAY_MS } from '../sources/sysctl.js';
import type {
  EphemeralPorts,
  Family,
  NetstatCounters,
  SampleOptions,
  StateCounts,
} from './model.js';
import { createRootSampler, type RootSampler } from './sample.js';

export interface NamespaceSample {
  /** The `netns` label. */
  readonly inode: number;
  readonly pid: number;
  readonly process: string;
  readonly owner: NamespaceOwner;
  readonly states: Record<Family, StateCounts>;
  /** Sockets of every family and state: the ranking for --collector.netns.max. */
  readonly socketCount: number;
  readonly ephemeral: EphemeralPorts;
  readonly netstat: NetstatCounters;
  readonly sysctls: NamespaceSysctls;
}

export interface NamespaceFailure {
  readonly inode: number;
  readonly pid: number;
  readonly error: string;
}

/** Plain data, like a Snapshot: it crosses the worker boundary by structured clone. */
export interface NetnsRound {
  readonly timestampMs: number;
  readonly durationSeconds: number;
  /** At most `max`, most sockets first. */
  readonly namespaces: readonly NamespaceSample[];
  /** Read but beyond `max`. */
  readonly dropped: number;
  /** Namespaces whose process exited (or became unreadable) mid-round. */
  readonly failures: readonly NamespaceFailure[];
  /** Set when the round could not run at all (the procfs root is unreadable). */
  readonly error?: string;
}

export interface NetnsRoundOptions {
  /** The node's procfs root, `/proc` (or `/host/proc` in a container). */
  readonly procfsRoot: string;
  /** `--path.pod-logs`. */
  readonly podLogsDir: string;
  /** `--collector.netns.max`: namespaces exported, most sockets first. */
  readonly max: number;
  /** `--collector.netns.top-destinations`. */
  readonly topDestinations: number;
}

/** The engine's options for a namespace: tables and counters; port breakdowns are not exported. */
function namespaceSampleOptions(topDestinations: number): Omit<SampleOptions, 'procfsRoot'> {
  return {
    maxListenPorts: 1,
    topRemotePorts: 1,
    topDestinations,
    sources: { sockets: true, sockstat: false, netstat: true, sysctl: false },
  };
}

/** The connect() model's settings from a namespace's sysctls. */
export function ephemeralSettingsOf(sysctls: NamespaceSysctls): EphemeralSettings {
  const value = (name: string): number => {
    const found = sysctls.values[name];
    if (found === undefined) throw new Error(`namespace sysctl ${name} missing`);
    return found;
  };
  return {
    range: {
      low: value('net.ipv4.ip_local_port_range.low'),
      high: value('net.ipv4.ip_local_port_range.high'),
    },
    reserved: sysctls.reserved,
    reuse: {
      twReuse: value('net.ipv4.tcp_tw_reuse'),
      twReuseDelayMs: sysctls.values['net.ipv4.tcp_tw_reuse_delay'] ?? FIXED_TW_REUSE_DELAY_MS,
      timestamps: value('net.ipv4.tcp_timestamps'),
    },
    values: sysctls.values,
  };
}

function sumStates(states: Record<Family, StateCounts>): number {
  let total = 0;
  for (const counts of Object.values(states)) {
    for (const count of Object.values(counts)) total += count;
  }
  return total;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class NetnsRoundSampler {
  private readonly sampler: RootSampler;
  private readonly owners: OwnerResolver;

  constructor(
    private readonly options: NetnsRoundOptions,
    private readonly readSysctls: NamespaceSysctlReader,
    /** Called between discovery and reading; tests make a process exit there. */
    private readonly afterDiscovery: (
      namespaces: readonly DiscoveredNamespace[],
    ) => void = () => {},
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
        failures: [],
        error: message(error),
      };
    }
    await this.afterDiscovery(namespaces);
    this.owners.beginRound(namespaces.map((found) => found.inode));
    const samples: NamespaceSample[] = [];
    const failures: NamespaceFailure[] = [];
    for (const found of namespaces) {
      const sampled = await this.sampleNamespace(found);
      if ('error' in sampled) failures.push(sampled);
      else samples.push(sampled);
    }
    samples.sort((a, b) => b.socketCount - a.socketCount || a.inode - b.inode);
    const kept = samples.slice(0, this.options.max);
    return {
      timestampMs,
      durationSeconds: elapsed(),
      namespaces: kept,
      dropped: samples.length - kept.length,
      failures,
    };
  }

  private async sampleNamespace(
    found: DiscoveredNamespace,
  ): Promise<NamespaceSample | NamespaceFailure> {
    const { inode, pid } = found;
    const processRoot = join(this.options.procfsRoot, String(pid));
    const fail = (error: string): NamespaceFailure => ({ inode, pid, error });
    const owner = this.owners.resolve(inode, pid);
    if (owner === undefined) return fail(`process ${pid} exited before its cgroup was read`);
    let sysctls: NamespaceSysctls;
    let settings: EphemeralSettings;
    try {
      sysctls = await this.readSysctls(join(processRoot, 'ns/net'));
      settings = ephemeralSettingsOf(sysctls);
    } catch (error) {
      return fail(message(error));
    }
    const snapshot = this.sampler.sample(processRoot, () => settings);
    for (const status of Object.values(snapshot.sources)) {
      if (status?.success === false) return fail(status.error ?? 'read failed');
    }
    const { sockets, netstat } = snapshot;
    if (sockets?.ephemeral === undefined || netstat === undefined) {
      return fail(sockets?.ephemeralError ?? 'no data');
    }
    return {
      inode,
      pid,
      process: found.process,
      owner,
      states: sockets.states,
      socketCount: sumStates(sockets.states),
      ephemeral: sockets.ephemeral,
      netstat,
      sysctls,
    };
  }
}
