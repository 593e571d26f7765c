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
import type { StreamData } from '../snapshot/model.js';
import type { NetnsView } from '../snapshot/netns-view.js';
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
  // The latest netns round: sent once per round, not with every sample.
  let netns: NetnsView | undefined;
  // The streams' latest data: sent when it changes.
  let streams: StreamData = {};
  return {
    async render(snapshot, request) {
      const { totals: before, ...sent } = request as ExpositionRequest;
      netns = sent.netns ?? netns;
      streams = sent.streams ?? streams;
      const totals = addSample(before, snapshot);
      const served = { ...snapshot, ...(netns !== undefined && { netns }), ...streams };
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
