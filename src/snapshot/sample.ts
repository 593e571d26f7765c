/**
 * The engine: (procfs root, options) → one immutable Snapshot. A Sampler owns its
 * buffers and nothing is global, so one process can sample several namespaces.
 * Each source is timed and fails alone; nothing throws out of sample().
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SourceError } from '../sources/kernel-files.js';
import { rootNamespaceInode } from '../sources/netns-discovery.js';
import type { NamespaceSysctls } from '../sources/netns-sysctl.js';
import {
  type EphemeralSettings,
  procfsSysctls,
  readEphemeralSettings,
  readHostOnlySysctls,
  readSysctls,
} from '../sources/sysctl.js';
import { TcpTableReader } from '../sources/tcp-table.js';
import type { SampleOptions, Snapshot, SourceStatus } from './model.js';
import { SocketAccumulator } from './socket-accumulator.js';
import {
  readPart,
  type SnapshotParts,
  SOURCE_NAMES,
  type SourceContext,
  type SourceName,
} from './source-readers.js';

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

export function createRootSampler(limits: Omit<SampleOptions, 'procfsRoot'>): RootSampler {
  const tables = new TcpTableReader();
  const accumulator = new SocketAccumulator();

  return {
    sample(procfsRoot: string, namespace?: NamespaceSysctls): Snapshot {
      const options: SampleOptions = { ...limits, procfsRoot };
      // Read once per sample, by whichever source asks first; a failure is kept for both.
      let settingsRead: { settings: EphemeralSettings } | { error: unknown } | undefined;
      const context: SourceContext = {
        options,
        tables,
        accumulator,
        describe: describeError,
        ephemeralSettings() {
          if (namespace !== undefined) return namespace.ephemeral;
          if (settingsRead === undefined) {
            try {
              settingsRead = { settings: readEphemeralSettings(procfsSysctls(procfsRoot)) };
            } catch (error) {
              settingsRead = { error };
            }
          }
          if ('error' in settingsRead) throw settingsRead.error;
          return settingsRead.settings;
        },
        sysctls() {
          if (namespace === undefined) {
            return readSysctls(procfsSysctls(procfsRoot), context.ephemeralSettings());
          }
          // Values read earlier, or assumed, outlive the namespace: they stand only while a
          // process still holds it (a zombie's net/ is gone too).
          const tcpPath = join(procfsRoot, 'net/tcp');
          if (!existsSync(tcpPath)) {
            throw new SourceError(
              `the namespace of ${procfsRoot} is gone: ${tcpPath} no longer exists (its process exited)`,
            );
          }
          // Host-wide sysctls of a /proc/<pid> root: the same kernel's, in /proc/sys beside it.
          const hostOnly = readHostOnlySysctls(procfsSysctls(dirname(procfsRoot)));
          return { ...namespace.sysctls, values: { ...namespace.sysctls.values, ...hostOnly } };
        },
      };
      const timestampMs = Date.now();
      const started = performance.now();
      const sources: Partial<Record<SourceName, SourceStatus>> = {};
      const parts: { -readonly [Name in keyof SnapshotParts]: SnapshotParts[Name] } = {};
      for (const name of SOURCE_NAMES) {
        if (!options.sources[name]) continue;
        const sourceStarted = performance.now();
        try {
          readPart(parts, name, context);
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
      const netnsInode = rootNamespaceInode(procfsRoot);
      return {
        procfsRoot,
        timestampMs,
        durationSeconds: (performance.now() - started) / 1000,
        ...(netnsInode !== undefined && { netnsInode }),
        sources,
        ...(namespace !== undefined && { sysctlsAssumed: namespace.assumed }),
        ...parts,
      };
    },
  };
}
