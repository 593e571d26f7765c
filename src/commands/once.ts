/** `--once`: one sample in this thread, the text exposition on stdout, logs on stderr. */
import { REGISTRY } from '../collectors/registry.js';
import { EXIT } from '../config/exit-codes.js';
import type { ExporterConfig } from '../config/flags.js';
import { createSampler } from '../snapshot/sample.js';
import { type CommandIo, writeText } from './io.js';
import { startUp } from './startup.js';

/** 0 when every enabled collector succeeded, 1 otherwise. */
export async function runOnce(config: ExporterConfig, io: CommandIo): Promise<number> {
  const started = await startUp(config, io, { logFd: 2 });
  if (started === undefined) return EXIT.failed;
  const { logger, metrics, sampleOptions } = started;
  const snapshot = createSampler(sampleOptions).sample();
  metrics.update(snapshot);
  const failed = REGISTRY.statuses(snapshot, config.collectors).filter((status) => !status.success);
  for (const status of failed) {
    logger.warn({ collector: status.name, error: status.error }, 'collector failed');
  }
  await writeText(io.stdout, (await metrics.render('text')).body.toString());
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}
