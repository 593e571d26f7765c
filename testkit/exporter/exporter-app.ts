/**
 * The exporter's web server in the test process, on a real loopback port: the app as the
 * daemon builds it (with a live web config when given), serving one fixture sample, with its
 * log lines captured.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type ExporterConfig, parseExporterArgs } from '../../src/config/flags.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import { buildApp, type ExporterApp } from '../../src/server/app.js';
import { SampleHistory } from '../../src/server/sample-history.js';
import { LiveWebConfig } from '../../src/server/web-config-reload.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import { MINIMAL_PROCFS } from './exporter-procfs.js';
import { sampleProcfs } from './exporter-snapshots.js';

export interface ServedApp {
  readonly app: ExporterApp;
  /** `https://127.0.0.1:port` or `http://...`. */
  readonly url: string;
  readonly web: LiveWebConfig | undefined;
  readonly history: SampleHistory;
  readonly metrics: ExporterMetrics;
  logLines(): Record<string, unknown>[];
  close(): Promise<void>;
}

export function exporterConfig(argv: readonly string[]): ExporterConfig {
  const parsed = parseExporterArgs(['--path.procfs', MINIMAL_PROCFS, ...argv]);
  if (!parsed.ok || !('config' in parsed.command)) throw new Error('bad test flags');
  return parsed.command.config;
}

export async function serveApp(
  options: {
    readonly argv?: readonly string[];
    readonly webConfigFile?: string;
    /** How often the web config's files are checked; the daemon's is 1 s. */
    readonly reloadCheckMs?: number;
    /** Samples recorded in order (the last one served); one of the minimal tree by default. */
    readonly snapshots?: readonly Snapshot[];
    /** Runs after the app is built and before it listens (extra test routes). */
    readonly prepare?: (app: ExporterApp) => void;
  } = {},
): Promise<ServedApp> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const config = exporterConfig(options.argv ?? []);
  const web =
    options.webConfigFile === undefined
      ? undefined
      : await LiveWebConfig.load(options.webConfigFile, logger);
  const metrics = new ExporterMetrics({ collectors: config.collectors, version: '1.2.3' });
  const history = new SampleHistory();
  for (const snapshot of options.snapshots ?? [sampleProcfs({ procfsRoot: MINIMAL_PROCFS })]) {
    metrics.update(snapshot);
    history.record(snapshot);
  }
  const app = await buildApp(config, {
    metrics,
    logger,
    version: '1.2.3',
    history,
    ...(web === undefined ? {} : { webConfig: web }),
  });
  options.prepare?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  web?.start(options.reloadCheckMs ?? 50);
  const { port } = app.server.address() as { port: number };
  const scheme = web?.current.tls === undefined ? 'http' : 'https';
  return {
    app,
    url: `${scheme}://127.0.0.1:${port}`,
    web,
    history,
    metrics,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async close() {
      web?.stop();
      // Test clients (fetch, autocannon) leave keep-alive sockets behind; drop them.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    },
  };
}
