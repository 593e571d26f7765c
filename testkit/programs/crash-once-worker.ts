/**
 * A sampler worker that dies on its first request when `<procfs>/crash-next-worker` exists
 * (removing the marker), and otherwise is the real sample worker.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { SampleWorkerData } from '../../src/sampler/sample-requests.js';

const marker = join((workerData as SampleWorkerData).sample.procfsRoot, 'crash-next-worker');
if (existsSync(marker)) {
  rmSync(marker);
  parentPort?.once('message', () => {
    throw new Error('crashing on purpose');
  });
} else {
  await import('../../src/sampler/sample-worker.js');
}
