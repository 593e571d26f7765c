/** `--once`: one sample in this thread, the text exposition on stdout, logs on stderr. */
import { REGISTRY } from '../collectors/registry.js';
import { EXIT } from '../config/exit-codes.js';
import type { ExporterConfig } from '../config/flags.js';
import { createSampler } from '../snapshot/sample.js';
import { type CommandIo, writeText } from './io.js';
import { startUp } from './startup.js';

/** 0 when every enabled collector succeeded, 1 otherwise. */
export async function runOnce(config: ExporterConfig, io: CommandIo): Promise<number> {
  const started = await startUp(config, io, { logFd: 2, lazyLogger: true });
  if (started === undefined) return EXIT.failed;
  const { logger, metrics, sampleOptions, namespace } = started;
  const namespaceSysctls = await namespace?.ready();
  namespace?.close();
  const snapshot = createSampler(sampleOptions).sample(namespaceSysctls);
  metrics.update(snapshot);
  // The engine's sources were read by the sample; those that --once reads too start here.
  const onceSources = REGISTRY.startedSources(config.collectors, 'once');
  if (onceSources.length > 0) {
    // The sources' workers, schedulers and readers are loaded only when one is asked for.
    const [{ SCHEDULED_SOURCES }, { startScheduledSources }] = await Promise.all([
      import('./scheduled-sources.js'),
      import('./source-runner.js'),
    ]);
    const sources = startScheduledSources({
      config,
      logger,
      store: metrics.sources,
      mode: 'once',
      sources: onceSources,
      starters: SCHEDULED_SOURCES,
    });
    sources.afterSample();
    await sources.ready;
    await sources.stop();
  }
  const served = metrics.snapshot ?? snapshot;
  const failed = REGISTRY.statuses(served, config.collectors).filter((status) => !status.success);
  for (const status of failed) {
    logger.warn({ collector: status.name, error: status.error }, 'collector failed');
  }
  await writeText(io.stdout, (await metrics.render('text')).body.toString());
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}
