/**
 * One round over every network namespace of the node: discover them, resolve owners, get
 * each one's sysctls, read its socket tables and counters through `<procfs>/<pid>` with the
 * engine, then keep the most loaded ones. Each namespace fails alone (its process exited
 * mid-round); nothing throws out of run().
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type DiscoveredNamespace, discoverNamespaces } from '../sources/netns-discovery.js';
import { OwnerResolver } from '../sources/netns-owner.js';
import { assumedNamespaceSysctls, type NamespaceSysctls } from '../sources/netns-sysctl.js';
import type { NamespaceSysctlCache } from '../sources/netns-sysctl-cache.js';
import type { NamespaceFailure, NamespaceSample, NetnsRound } from './netns-view.js';
import { createRootSampler, type RootSampler } from './sample.js';
import type { Family, StateCounts } from './socket-tables.js';
import type { SampleOptions } from './source-readers.js';

/**
 * Namespace sysctls by entering each namespace (NamespaceSysctlCache): fresh() answers from
 * its cache or waits for a due read, with a new namespace's defaults marked assumed when
 * the namespace cannot be entered; evictExcept() forgets the namespaces that are gone.
 */
export type NamespaceSysctlReader = Pick<NamespaceSysctlCache, 'fresh' | 'evictExcept'>;

/**
 * The sysctls tcpstate_netns_sysctl exports: what the connect() model uses and
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
    for (const [index, found] of namespaces.entries()) {
      const sampled = this.sampleNamespace(found, sysctls[index] as NamespaceSysctls);
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

  private nsFile(found: DiscoveredNamespace): string {
    return join(this.options.procfsRoot, String(found.pid), 'ns/net');
  }

  private sampleNamespace(
    found: DiscoveredNamespace,
    sysctls: NamespaceSysctls,
  ): NamespaceSample | NamespaceFailure {
    const { inode, pid } = found;
    const processRoot = join(this.options.procfsRoot, String(pid));
    const fail = (error: string): NamespaceFailure => ({ inode, pid, error });
    const owner = this.owners.resolve(inode, pid);
    if (owner === undefined) return fail(`process ${pid} exited before its cgroup was read`);
    const snapshot = this.sampler.sample(processRoot, sysctls);
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
      sysctls: exportedSysctls(sysctls.sysctls.values),
      sysctlsAssumed: sysctls.assumed,
    };
  }
}
