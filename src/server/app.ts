/**
 * The HTTP server, built apart from listen() so tests drive it with inject(). Scrapes only
 * format the latest snapshot: sampling happens elsewhere, on its own schedule.
 */
import compress from '@fastify/compress';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ExporterConfig } from '../cli/flags.js';
import { COLLECTOR_NAMES } from '../metrics/collector-names.js';
import { collectorStatuses } from '../metrics/collectors.js';
import type { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { renderLandingPage } from './landing.js';
import { FASTIFY_SERVER_OPTIONS, HTTP_SERVER_OPTIONS, maxConnections } from './limits.js';
import { chooseExpositionEncoding, chooseExpositionFormat } from './negotiate.js';

export interface AppDeps {
  readonly metrics: ExporterMetrics;
  readonly logger: Logger;
  readonly version: string;
}

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Fastify's own info lines ("Server listening at ...") would repeat our start line. */
function httpLogger(logger: Logger): Logger {
  const level =
    LEVEL_ORDER.indexOf(logger.level) > LEVEL_ORDER.indexOf('warn') ? logger.level : 'warn';
  return logger.child({}, { level });
}

export async function buildApp(config: ExporterConfig, deps: AppDeps) {
  const { metrics, logger } = deps;
  const app = Fastify({
    ...FASTIFY_SERVER_OPTIONS,
    http: HTTP_SERVER_OPTIONS,
    loggerInstance: httpLogger(logger),
    // Scrapes come every few seconds: request lines only at debug, from the hook below.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.server.maxConnections = maxConnections();
  await app.register(compress, { encodings: ['gzip'] });

  app.addHook('onResponse', async (request, reply) => {
    logger.debug(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        seconds: reply.elapsedTime / 1000,
      },
      'request',
    );
  });

  // Compressed by ExporterMetrics, once per sample, rather than by @fastify/compress per scrape.
  app.get(config.telemetryPath, { compress: false }, async (request, reply) => {
    const encoding = chooseExpositionEncoding(request.headers['accept-encoding']);
    const exposition = await metrics.render(
      chooseExpositionFormat(request.headers.accept),
      encoding,
    );
    if (encoding === 'gzip') reply.header('content-encoding', 'gzip');
    return reply
      .header('content-type', exposition.contentType)
      .header('vary', 'Accept, Accept-Encoding')
      .send(exposition.body);
  });

  app.get('/', async (_request, reply) => {
    const snapshot = metrics.snapshot;
    const page = renderLandingPage({
      version: deps.version,
      telemetryPath: config.telemetryPath,
      effectiveFlags: config.effectiveFlags,
      snapshot,
      collectors: COLLECTOR_NAMES.map((name) => ({ name, enabled: config.collectors[name] })),
      statuses: snapshot === undefined ? [] : collectorStatuses(snapshot, config.collectors),
    });
    return reply.type('text/html; charset=utf-8').send(page);
  });

  app.get('/-/healthy', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send('Healthy\n'),
  );

  app.get('/-/ready', async (_request, reply) => {
    reply.type('text/plain; charset=utf-8');
    if (metrics.ready) return reply.send('Ready\n');
    const latest = metrics.snapshot;
    if (latest === undefined)
      return reply.code(503).send('Not ready: waiting for the first sample\n');
    const error = latest.sources.sockets?.error;
    return reply
      .code(503)
      .send(`Not ready: the latest sample failed${error === undefined ? '' : `: ${error}`}\n`);
  });

  return app;
}

export type ExporterApp = Awaited<ReturnType<typeof buildApp>>;
