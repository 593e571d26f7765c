/**
 * Worker thread entry for the per-namespace rounds: owns one NetnsRoundSampler and answers
 * every message with a fresh NetnsRound, so neither the many table walks nor the sysctl
 * reads (a child process per namespace) ever run on the HTTP server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type NetnsRoundOptions, NetnsRoundSampler } from '../snapshot/netns-round.js';
import { assumedNamespaceSysctls } from '../sources/netns-sysctl-placeholder.js';

if (parentPort === null) throw new Error('netns-worker.js must run in a worker thread');
const port = parentPort;
const options = workerData as NetnsRoundOptions;
const rounds = new NetnsRoundSampler(options, async () =>
  assumedNamespaceSysctls('the namespace sysctl reader has not landed yet'),
);
port.on('message', () => {
  void rounds.run().then((round) => port.postMessage(round));
});
