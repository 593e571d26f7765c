/**
 * The daemon's sampling worker: the engine's sample worker that also renders each sample's
 * exposition (metrics/sample-exposition.ts) and hands the bytes over without a copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  addSample,
  type ExpositionOptions,
  type ExpositionRequest,
  type RenderedSample,
  SampleExposition,
  transferList,
} from '../metrics/sample-exposition.js';
import type { ServedResults } from '../sources/scheduled-source.js';
import {
  answerSampleRequests,
  type SampleRenderer,
  type SampleWorkerData,
} from './sample-requests.js';
import { workerScript } from './worker-sampler.js';

/** This script, as built or under tsx. */
export function expositionWorkerScript(): URL {
  return workerScript(new URL('./exposition-worker.js', import.meta.url));
}

function expositionRenderer(options: ExpositionOptions): SampleRenderer {
  const exposition = new SampleExposition(options);
  // The scheduled sources' latest results: each sent when it changes, not with every sample.
  let scheduled: ServedResults = {};
  return {
    async render(snapshot, request) {
      const { totals: before, ...sent } = request as ExpositionRequest;
      if (sent.scheduled !== undefined) scheduled = { ...scheduled, ...sent.scheduled };
      const totals = addSample(before, snapshot);
      const served = Object.keys(scheduled).length === 0 ? snapshot : { ...snapshot, scheduled };
      const rendered: RenderedSample = {
        totals,
        exposition: await exposition.render(served, totals),
      };
      return { rendered, transfer: transferList(rendered.exposition) };
    },
  };
}

if (parentPort !== null) {
  const data = workerData as SampleWorkerData;
  answerSampleRequests(
    parentPort,
    data.sample,
    data.render === undefined ? undefined : expositionRenderer(data.render as ExpositionOptions),
  );
}
