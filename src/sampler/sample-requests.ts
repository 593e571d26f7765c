/**
 * What the sampling worker does with each request: take a sample and, when the daemon asked
 * for it, render its exposition (sample-exposition.ts) there too, then post both, moving the
 * rendered bytes rather than copying them. The HTTP thread is left to swap references.
 */
import type { MessagePort } from 'node:worker_threads';
import type {
  ExpositionOptions,
  RenderedExposition,
  SampleTotals,
} from '../metrics/sample-exposition.js';
import type { SampleOptions, Snapshot } from '../snapshot/model.js';
import { createSampler } from '../snapshot/sample.js';

export interface SampleWorkerData {
  readonly sample: SampleOptions;
  /** Render each sample's exposition in the worker; without it the worker only samples. */
  readonly exposition?: ExpositionOptions;
}

export interface SampleRequest {
  /** The totals before this sample; the reply's include it. */
  readonly totals?: SampleTotals;
}

/** A sample's exposition, rendered with the totals that include it. */
export interface RenderedParts {
  readonly totals: SampleTotals;
  readonly exposition: RenderedExposition;
}

export interface Sampled {
  readonly snapshot: Snapshot;
  /** Present when the worker rendered the sample. */
  readonly rendered?: RenderedParts;
}

/**
 * Answers every request on `port` with a Sampled; `beforeSample` lets tests block the thread.
 * The renderer (prom-client) is loaded only when asked for; requests wait in the port meanwhile.
 */
export async function answerSampleRequests(
  port: MessagePort,
  data: SampleWorkerData,
  beforeSample: () => void = () => {},
): Promise<void> {
  const sampler = createSampler(data.sample);
  const render =
    data.exposition === undefined ? undefined : await import('../metrics/sample-exposition.js');
  const exposition =
    render === undefined || data.exposition === undefined
      ? undefined
      : new render.SampleExposition(data.exposition);
  port.on('message', async (request: SampleRequest) => {
    beforeSample();
    const snapshot = sampler.sample();
    if (render === undefined || exposition === undefined || request.totals === undefined) {
      port.postMessage({ snapshot } satisfies Sampled);
      return;
    }
    const totals = render.addSample(request.totals, snapshot);
    const rendered = await exposition.render(snapshot, totals);
    port.postMessage(
      { snapshot, rendered: { totals, exposition: rendered } } satisfies Sampled,
      render.transferList(rendered),
    );
  });
}
