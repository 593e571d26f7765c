/**
 * The per-namespace rounds in their own worker thread (netns-worker.ts), on their own
 * schedule: a round walks the shared socket hash once per namespace and starts sysctl
 * readers, so it must neither block the HTTP server nor delay the node's own sample.
 */
import type { NetnsRoundOptions } from '../snapshot/netns-round.js';
import type { NetnsRound } from '../snapshot/netns-view.js';
import { WorkerTask, workerScript } from './worker-sampler.js';

export interface NetnsWorkerData extends NetnsRoundOptions {
  /** `--collector.netns.sysctl-refresh`: how old a namespace's sysctls may get. */
  readonly sysctlRefreshMs: number;
}

/** The round a worker that died, hung or was closed stands for: an error, no namespaces. */
export function failedRound(
  timestampMs: number,
  durationSeconds: number,
  error: string,
): NetnsRound {
  return {
    timestampMs,
    durationSeconds,
    namespaces: [],
    dropped: 0,
    walked: 0,
    deferred: 0,
    failures: [],
    error,
  };
}

export function netnsWorker(options: {
  readonly data: NetnsWorkerData;
  readonly timeoutMs: number;
  readonly onWorkerDeath: (reason: string) => void;
  readonly script?: URL;
}): WorkerTask<NetnsWorkerData, NetnsRound> {
  return new WorkerTask({
    workerData: options.data,
    timeoutMs: options.timeoutMs,
    onWorkerDeath: options.onWorkerDeath,
    script: options.script ?? workerScript(new URL('./netns-worker.js', import.meta.url)),
    failed: failedRound,
  });
}
