/**
 * Worker thread entry: owns one engine Sampler (and its buffers) and answers every request
 * with a fresh Snapshot, so a long table scan never blocks the HTTP server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { answerSampleRequests, type SampleWorkerData } from './sample-requests.js';

if (parentPort === null) throw new Error('sample-worker.js must run in a worker thread');
answerSampleRequests(parentPort, (workerData as SampleWorkerData).sample);
