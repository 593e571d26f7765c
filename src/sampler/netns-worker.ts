/**
 * Worker thread entry for the per-namespace rounds: owns one NetnsRoundSampler and the
 * namespace sysctl cache, and answers every message with a fresh NetnsRound, so neither
 * the many table walks nor the sysctl readers' children are handled on the HTTP server's
 * event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NetnsRoundSampler } from '../snapshot/netns-round.js';
import { NamespaceSysctlCache } from '../sources/netns-sysctl-cache.js';
import type { NetnsWorkerData } from './netns-sampler.js';

if (parentPort === null) throw new Error('netns-worker.js must run in a worker thread');
const port = parentPort;
const options = workerData as NetnsWorkerData;
/** Why sysctls were assumed, said once per kind by the cache; handed over with the next round. */
let notices: string[] = [];
const sysctls = new NamespaceSysctlCache({
  refreshMs: options.sysctlRefreshMs,
  onAssumed: (reason) => notices.push(reason),
});
const rounds = new NetnsRoundSampler(options, sysctls);
port.on('message', () => {
  void rounds.run().then((round) => {
    port.postMessage({ ...round, notices });
    notices = [];
  });
});
