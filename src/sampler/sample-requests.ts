/**
 * What a sampling worker does with each request: take a sample and, when its script brought
 * a renderer (the daemon's does: sampler/exposition-worker.ts), render it there too, then post
 * both, moving the rendered bytes rather than copying them. The HTTP thread is left to swap
 * references. The sampler knows nothing of what is rendered: requests and results pass through.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SampleOptions, Snapshot } from '../snapshot/model.js';
import { createSampler } from '../snapshot/sample.js';
import type { NamespaceSysctls } from '../sources/netns-sysctl.js';

export interface SampleWorkerData {
  readonly sample: SampleOptions;
  /** For the worker script's renderer; a script without one ignores it. */
  readonly render?: unknown;
}

export interface SampleRequest {
  /** The namespace's sysctls, read by entering it, for a `/proc/<pid>` root. */
  readonly namespace?: NamespaceSysctls;
  /** For the renderer, with this sample (the daemon's: the totals before it). */
  readonly render?: unknown;
}

export interface Sampled<Rendered = unknown> {
  readonly snapshot: Snapshot;
  /** Present when the worker rendered the sample. */
  readonly rendered?: Rendered;
}

export interface SampleRenderer {
  render(
    snapshot: Snapshot,
    request: unknown,
  ): Promise<{ readonly rendered: unknown; readonly transfer: readonly ArrayBuffer[] }>;
}

/** Answers every request on `port` with a Sampled; `beforeSample` lets tests block the thread. */
export function answerSampleRequests(
  port: MessagePort,
  options: SampleOptions,
  renderer?: SampleRenderer,
  beforeSample: () => void = () => {},
): void {
  const sampler = createSampler(options);
  port.on('message', async (request: SampleRequest) => {
    beforeSample();
    const snapshot = sampler.sample(request.namespace);
    if (renderer === undefined || request.render === undefined) {
      port.postMessage({ snapshot } satisfies Sampled);
      return;
    }
    const { rendered, transfer } = await renderer.render(snapshot, request.render);
    port.postMessage({ snapshot, rendered } satisfies Sampled, [...transfer]);
  });
}
