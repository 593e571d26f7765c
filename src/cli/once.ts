/** `--once`: one sample in this thread, the text exposition on stdout, logs on stderr. */
import { createLogger } from '../log.js';
import { collectorStatuses } from '../metrics/collectors.js';
import { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { ASSUMED_SYSCTLS_MESSAGE, ProcfsRootNamespace } from '../sampler/procfs-namespace.js';
import { createSampler } from '../snapshot/sample.js';
import { type ExporterConfig, sampleOptionsFor } from './flags.js';
import { type CommandIo, writeProblem, writeText } from './io.js';
import { procfsRootProblem } from './procfs-check.js';
import { packageVersion } from './version.js';

/** 0 when every enabled collector succeeded, 1 otherwise. */
export async function runOnce(config: ExporterConfig, io: CommandIo): Promise<number> {
  const problem = procfsRootProblem(config.procfsRoot);
  if (problem !== undefined) {
    await writeProblem(io, problem);
    return 1;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, fd: 2 });
  const metrics = new ExporterMetrics({ collectors: config.collectors, version: packageVersion() });
  const namespace = ProcfsRootNamespace.of(config.procfsRoot, {
    refreshMs: config.namespaceSysctlRefreshMs,
    onAssumed: (reason) => logger.warn({ reason }, ASSUMED_SYSCTLS_MESSAGE),
  });
  const namespaceSysctls = await namespace?.ready();
  namespace?.close();
  const snapshot = createSampler(sampleOptionsFor(config)).sample(namespaceSysctls);
  metrics.update(snapshot);
  const failed = collectorStatuses(snapshot, config.collectors).filter((status) => !status.success);
  for (const status of failed) {
    logger.warn({ collector: status.name, error: status.error }, 'collector failed');
  }
  await writeText(io.stdout, (await metrics.render('text')).body.toString());
  return failed.length === 0 ? 0 : 1;
}
