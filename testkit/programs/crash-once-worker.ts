/**
 * A sampler worker that dies on its first request when `<procfs>/crash-next-worker` exists
 * (removing the marker), and otherwise is the real worker its data is for: the node's
 * sample worker (data with a `sample`) or the namespace rounds' worker (data with a
 * `procfsRoot` of its own).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { NetnsWorkerData } from '../../src/sampler/netns-sampler.js';
import type { SampleWorkerData } from '../../src/sampler/sample-requests.js';

const data = workerData as SampleWorkerData | NetnsWorkerData;
const forNode = 'sample' in data;
const marker = join(forNode ? data.sample.procfsRoot : data.procfsRoot, 'crash-next-worker');
if (existsSync(marker)) {
  rmSync(marker);
  parentPort?.once('message', () => {
    throw new Error('crashing on purpose');
  });
} else if (forNode) {
  await import('../../src/sampler/sample-worker.js');
} else {
  await import('../../src/sampler/netns-worker.js');
}
