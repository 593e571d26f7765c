/**
 * The real sample worker, except that while `<procfs>/gate` exists each sample first does a
 * blocking open() and read of it: with a FIFO there, the thread sits in the kernel until the
 * test writes to it, as a read from a hung file system would (the real reader refuses
 * FIFOs, so only a substitute worker can block like this).
 */
import { closeSync, existsSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { answerSampleRequests, type SampleWorkerData } from '../../src/sampler/sample-requests.js';

const data = workerData as SampleWorkerData;
const gate = join(data.sample.procfsRoot, 'gate');
const port = parentPort;
if (port === null) throw new Error('gated-worker.ts must run in a worker thread');

function waitAtGate(): void {
  if (!existsSync(gate)) return;
  // Tells the test this thread is about to block (a file: any message would be a snapshot).
  writeFileSync(`${gate}.waiting`, '');
  const fd = openSync(gate, 'r');
  const buffer = Buffer.alloc(4096);
  while (readSync(fd, buffer, 0, buffer.length, null) > 0) {}
  closeSync(fd);
}

answerSampleRequests(port, data.sample, undefined, waitAtGate);
