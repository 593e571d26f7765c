/**
 * The engine: (procfs root, options) → one immutable Snapshot. A Sampler owns its
 * buffers and nothing is global, so one process can sample several namespaces.
 * Each source is timed and fails alone; nothing throws out of sample().
 */
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SourceError } from '../sources/kernel-files.js';
import type { NamespaceSysctls } from '../sources/netns-sysctl.js';
import { readNetstat } from '../sources/netstat.js';
import { readSockstat } from '../sources/sockstat.js';
import {
  type EphemeralSettings,
  procfsSysctls,
  readEphemeralSettings,
  readHostOnlySysctls,
  readSysctls,
} from '../sources/sysctl.js';
import { TcpTableReader } from '../sources/tcp-table.js';
import {
  DEFAULT_SAMPLE_OPTIONS,
  type SampleOptions,
  type Snapshot,
  type SocketTables,
  type SourceName,
  type SourceStatus,
} from './model.js';
import { SocketAccumulator } from './socket-accumulator.js';

export interface Sampler {
  /**
   * Synchronous (run it off the main thread for large tables); never throws. `namespace`:
   * the sysctls of the root's namespace read by entering it, for a root without `sys/`
   * (`/proc/<pid>`); without it they are read from `<root>/sys`.
   */
  sample(namespace?: NamespaceSysctls): Snapshot;
}

/**
 * Samples any procfs root with one set of buffers: the per-namespace round reads many
 * `<procfs>/<pid>` roots, each with its namespace's sysctls (see Sampler).
 */
export interface RootSampler {
  sample(procfsRoot: string, namespace?: NamespaceSysctls): Snapshot;
}

function describeError(error: unknown): string {
  if (error instanceof SourceError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function createSampler(options: SampleOptions): Sampler {
  const sampler = createRootSampler(options);
  return { sample: (namespace) => sampler.sample(options.procfsRoot, namespace) };
}

export function createRootSampler(options: Omit<SampleOptions, 'procfsRoot'>): RootSampler {
  const reader = new TcpTableReader();
  const accumulator = new SocketAccumulator();
  let root = '';
  let sysctls = procfsSysctls(root);
  // Host-wide sysctls of a /proc/<pid> root: the same kernel's, in /proc/sys beside it.
  let hostSysctls = procfsSysctls(root);
  let namespace: NamespaceSysctls | undefined;

  // Read once per sample, by whichever source asks first; a failure is kept for both.
  let settingsRead: { settings: EphemeralSettings } | { error: unknown } | undefined;
  function ephemeralSettings(): EphemeralSettings {
    if (namespace !== undefined) return namespace.ephemeral;
    if (settingsRead === undefined) {
      try {
        settingsRead = { settings: readEphemeralSettings(sysctls) };
      } catch (error) {
        settingsRead = { error };
      }
    }
    if ('error' in settingsRead) throw settingsRead.error;
    return settingsRead.settings;
  }

  function readSocketTables(): SocketTables {
    let settings: EphemeralSettings | undefined;
    let ephemeralError: string | undefined;
    try {
      settings = ephemeralSettings();
    } catch (error) {
      ephemeralError = describeError(error);
    }
    accumulator.begin(settings);
    const tcpPath = join(root, 'net/tcp');
    const tcp = reader.read(tcpPath, 'ipv4', accumulator, options.readChunkBytes);
    if (!tcp.present) throw new SourceError(`cannot read ${tcpPath}: ENOENT (no such file)`);
    const tcp6 = reader.read(join(root, 'net/tcp6'), 'ipv6', accumulator, options.readChunkBytes);
    const aggregates = accumulator.finish(options);
    return {
      tcp,
      tcp6,
      bytesRead: tcp.bytes + tcp6.bytes,
      linesRead: tcp.lines + tcp6.lines,
      ...aggregates,
      ...(ephemeralError !== undefined && { ephemeralError }),
    };
  }

  const readers = {
    sockets: readSocketTables,
    sockstat: () => readSockstat(root),
    netstat: () => readNetstat(root),
    sysctl: () =>
      namespace === undefined
        ? readSysctls(sysctls, ephemeralSettings())
        : {
            ...namespace.sysctls,
            values: { ...namespace.sysctls.values, ...readHostOnlySysctls(hostSysctls) },
          },
  } satisfies Record<SourceName, () => unknown>;

  return {
    sample(procfsRoot: string, namespaceSysctls?: NamespaceSysctls): Snapshot {
      if (procfsRoot !== root) {
        root = procfsRoot;
        sysctls = procfsSysctls(root);
        hostSysctls = procfsSysctls(dirname(root));
      }
      settingsRead = undefined;
      namespace = namespaceSysctls;
      const timestampMs = Date.now();
      const started = performance.now();
      const sources: Partial<Record<SourceName, SourceStatus>> = {};
      const parts: Record<string, unknown> = {};
      for (const name of Object.keys(readers) as SourceName[]) {
        if (!options.sources[name]) continue;
        const sourceStarted = performance.now();
        try {
          parts[name] = readers[name]();
          sources[name] = {
            success: true,
            durationSeconds: (performance.now() - sourceStarted) / 1000,
          };
        } catch (error) {
          sources[name] = {
            success: false,
            durationSeconds: (performance.now() - sourceStarted) / 1000,
            error: describeError(error),
          };
        }
      }
      return {
        procfsRoot: root,
        timestampMs,
        durationSeconds: (performance.now() - started) / 1000,
        sources,
        ...(namespace !== undefined && { sysctlsAssumed: namespace.assumed }),
        ...(parts as Pick<Snapshot, 'sockets' | 'sockstat' | 'netstat' | 'sysctl'>),
      };
    },
  };
}

/** One sample with default limits: for `--once`, doctor and tests. */
export function sampleProcfs(options: Partial<SampleOptions> & { procfsRoot: string }): Snapshot {
  return createSampler({ ...DEFAULT_SAMPLE_OPTIONS, ...options }).sample();
}
