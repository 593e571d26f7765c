/** The landing page, its JSON and its static assets. */

import type { ExporterConfig } from '../config/flags.js';
import type { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { sendCompressible } from './compressible-reply.js';
import type { ExporterFastify } from './fastify-instance.js';
import { renderLandingPage } from './landing.js';
import { ASSET_PREFIX, pageAsset } from './page-assets.js';
import { collectorViews, PAGE_DATA_PATH, pageData } from './page-data.js';
import { HISTORY_CAPACITY, type SampleHistory } from './sample-history.js';

export function registerPage(
  app: ExporterFastify,
  config: ExporterConfig,
  deps: {
    readonly metrics: ExporterMetrics;
    readonly version: string;
    readonly history: SampleHistory;
  },
): void {
  const { metrics, history } = deps;

  app.get('/', async (request, reply) => {
    const snapshot = metrics.snapshot;
    const page = renderLandingPage({
      version: deps.version,
      telemetryPath: config.telemetryPath,
      effectiveFlags: config.effectiveFlags,
      snapshot,
      collectors: collectorViews(config.collectors, snapshot),
    });
    return sendCompressible(request, reply.type('text/html; charset=utf-8'), page);
  });

  app.get(PAGE_DATA_PATH, async (request, reply) => {
    const data = pageData({
      version: deps.version,
      telemetryPath: config.telemetryPath,
      intervalSeconds: config.sampleIntervalMs / 1000,
      historyCapacity: HISTORY_CAPACITY,
      flags: config.effectiveFlags,
      collectors: config.collectors,
      snapshot: metrics.snapshot,
      history: history.series(),
    });
    return sendCompressible(
      request,
      reply.type('application/json; charset=utf-8').header('cache-control', 'no-store'),
      JSON.stringify(data),
    );
  });

  app.get<{ Params: { name: string } }>(`${ASSET_PREFIX}:name`, async (request, reply) => {
    const asset = pageAsset(request.params.name);
    if (asset === undefined) return reply.callNotFound();
    const { type, body } = await asset;
    return sendCompressible(request, reply.type(type).header('cache-control', 'no-cache'), body);
  });
}
