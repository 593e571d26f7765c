/**
 * The start-up steps serve and `--once` share: check the procfs root, then make the
 * logger, the metrics, the engine options and, for a `/proc/<pid>` root, the reader of that
 * namespace's sysctls from the configuration.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExporterConfig } from '../config/flags.js';
import { sampleOptionsFor } from '../config/flags.js';
import { packageVersion } from '../config/version.js';
import { createLazyLogger, createLogger, type Logger } from '../log.js';
import { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { ASSUMED_SYSCTLS_MESSAGE, ProcfsRootNamespace } from '../sampler/procfs-namespace.js';
import type { SampleOptions } from '../snapshot/model.js';
import { type CommandIo, writeProblem } from './io.js';

/** Why this procfs root cannot be sampled at all, or undefined when net/tcp is there. */
export function procfsRootProblem(procfsRoot: string): string | undefined {
  const tcp = join(procfsRoot, 'net/tcp');
  if (existsSync(tcp)) return undefined;
  return `${tcp} does not exist: --path.procfs must point at a procfs mount such as /proc or /proc/<pid>`;
}

export interface Started {
  readonly version: string;
  readonly logger: Logger;
  readonly metrics: ExporterMetrics;
  readonly sampleOptions: SampleOptions;
  /** For a `/proc/<pid>` root: that namespace's sysctls, read by entering it. */
  readonly namespace: ProcfsRootNamespace | undefined;
}

export interface StartOptions {
  /** 1 for stdout; `--once` logs to stderr (2), keeping stdout for the exposition. */
  readonly logFd: 1 | 2;
  /** The daemon's interval, exported as tcpstate_sample_interval_seconds; `--once` has none. */
  readonly sampleIntervalSeconds?: number;
  /** Load the logger when first used (`--once`, which logs only failures). */
  readonly lazyLogger?: boolean;
}

/** Undefined, after saying why on stderr, when the procfs root cannot be sampled. */
export async function startUp(
  config: ExporterConfig,
  io: CommandIo,
  options: StartOptions,
): Promise<Started | undefined> {
  const problem = procfsRootProblem(config.procfsRoot);
  if (problem !== undefined) {
    await writeProblem(io, problem);
    return undefined;
  }
  const version = packageVersion();
  const logOptions = { level: config.logLevel, format: config.logFormat, fd: options.logFd };
  const logger = options.lazyLogger ? createLazyLogger(logOptions) : createLogger(logOptions);
  const metrics = new ExporterMetrics({
    collectors: config.collectors,
    version,
    ...(options.sampleIntervalSeconds === undefined
      ? {}
      : { sampleIntervalSeconds: options.sampleIntervalSeconds }),
  });
  const namespace = ProcfsRootNamespace.of(config.procfsRoot, {
    refreshMs: config.collectorOptions.netnsSysctlRefreshMs,
    onAssumed: (reason) => logger.warn({ reason }, ASSUMED_SYSCTLS_MESSAGE),
  });
  return { version, logger, metrics, sampleOptions: sampleOptionsFor(config), namespace };
}
