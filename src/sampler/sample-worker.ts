/**
 * Worker thread entry: owns one engine Sampler (and its buffers) and answers every message
 * with a fresh Snapshot, so a long table scan never blocks the HTTP server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SampleOptions } from '../snapshot/model.js';
import { createSampler } from '../snapshot/sample.js';
import type { SampleRequest } from './worker-sampler.js';

if (parentPort === null) throw new Error('sample-worker.js must run in a worker thread');
const port = parentPort;
const sampler = createSampler(workerData as SampleOptions);
port.on('message', (request: SampleRequest) => port.postMessage(sampler.sample(request.namespace)));
