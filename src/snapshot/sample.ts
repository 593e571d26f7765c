/**
 * The engine: (procfs root, options) → one immutable Snapshot. A Sampler owns its
 * buffers and nothing is global, so one process can sample several namespaces.
 * Each source is timed and fails alone; nothing throws out of sample().
 */
import { performance } from 'node:perf_hooks';
import { SourceError } from '../sources/kernel-files.js';
import { type EphemeralSettings, readEphemeralSettings } from '../sources/sysctl.js';
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
  /** Synchronous (run it off the main thread for large tables); never throws. */
  sample(): Snapshot;
}

function describeError(error: unknown): string {
  if (error instanceof SourceError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function createSampler(options: SampleOptions): Sampler {
  const tables = new TcpTableReader();
  const accumulator = new SocketAccumulator();

  // Read once per sample, by whichever source asks first; a failure is kept for both.
  let settingsRead: { settings: EphemeralSettings } | { error: unknown } | undefined;
  const context: SourceContext = {
    options,
    tables,
    accumulator,
    describe: describeError,
    ephemeralSettings() {
      if (settingsRead === undefined) {
        try {
          settingsRead = { settings: readEphemeralSettings(options.procfsRoot) };
        } catch (error) {
          settingsRead = { error };
        }
      }
      if ('error' in settingsRead) throw settingsRead.error;
      return settingsRead.settings;
    },
  };

  return {
    sample(): Snapshot {
      settingsRead = undefined;
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
      return {
        procfsRoot: options.procfsRoot,
        timestampMs,
        durationSeconds: (performance.now() - started) / 1000,
        sources,
        ...parts,
      };
    },
  };
}
