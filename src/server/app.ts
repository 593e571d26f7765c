/**
 * The HTTP server, built apart from listen() so tests drive it with inject(). Scrapes only
 * format the latest snapshot: sampling happens elsewhere, on its own schedule.
 */

import type { Server as HttpsServer } from 'node:https';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ExporterConfig } from '../config/flags.js';
import type { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { FASTIFY_SERVER_OPTIONS, HTTP_SERVER_OPTIONS, maxConnections } from './limits.js';
import { chooseExpositionEncoding, chooseExpositionFormat } from './negotiate.js';
import { registerPage } from './page-routes.js';
import { SampleHistory } from './sample-history.js';
import { attachTls, serverTlsOptions } from './tls-policy.js';
import type { LiveWebConfig } from './web-config-reload.js';
import { registerWebGuard } from './web-guard.js';

export interface AppDeps {
  readonly metrics: ExporterMetrics;
  readonly logger: Logger;
  readonly version: string;
  /** The live page's recent samples; a fresh, empty one when not given. */
  readonly history?: SampleHistory;
  /** From --web.config.file: TLS, auth, headers, rate limit. */
  readonly webConfig?: LiveWebConfig;
}

/**
 * No route validates or serializes with a JSON schema, so Fastify's default compilers (ajv
 * and fast-json-stringify, ~100 modules and a few MiB of heap) are never loaded; a route
 * given a schema fails at start-up instead of compiling it.
 */
const NO_SCHEMAS = {
  compilersFactory: { buildValidator: () => refuseSchema, buildSerializer: () => refuseSchema },
};

function refuseSchema(): never {
  throw new Error('this server compiles no JSON schemas (see NO_SCHEMAS in server/app.ts)');
}

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Fastify's own info lines ("Server listening at ...") would repeat our start line. */
function httpLogger(logger: Logger): Logger {
  const level =
    LEVEL_ORDER.indexOf(logger.level) > LEVEL_ORDER.indexOf('warn') ? logger.level : 'warn';
  return logger.child({}, { level });
}

export async function buildApp(config: ExporterConfig, deps: AppDeps) {
  const { metrics, logger, webConfig } = deps;
  const tls = webConfig?.current.tls;
  const app = Fastify({
    ...FASTIFY_SERVER_OPTIONS,
    schemaController: NO_SCHEMAS,
    // Fastify passes `https` instead of `http` to the server when TLS is on: both carry the limits.
    http: HTTP_SERVER_OPTIONS,
    loggerInstance: httpLogger(logger),
    // Scrapes come every few seconds: request lines only at debug, from the hook below.
    logController: new LogController({ disableRequestLogging: true }),
    ...(tls === undefined
      ? {}
      : { https: { ...HTTP_SERVER_OPTIONS, ...tls.context, ...serverTlsOptions(tls) } }),
  });
  if (webConfig !== undefined && tls !== undefined) {
    attachTls(app.server as unknown as HttpsServer, webConfig, (problem, socket) =>
      logger.debug({ remote: socket.remoteAddress, problem }, 'TLS client refused'),
    );
  }
  registerWebGuard(app, {
    maxRequests: config.maxRequests,
    webConfig: () => webConfig?.current,
  });
  app.server.maxConnections = maxConnections();

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

  // Compressed by ExporterMetrics, once per sample, rather than per scrape.
  app.get(config.telemetryPath, async (request, reply) => {
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

  registerPage(app, config, { ...deps, history: deps.history ?? new SampleHistory() });

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
