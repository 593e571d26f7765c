import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ExporterConfig,
  parseExporterArgs,
  sampleOptionsFor,
} from '../../src/config/flags.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import { SampleExposition } from '../../src/metrics/sample-exposition.js';
import { buildApp, type ExporterApp } from '../../src/server/app.js';
import { failedSnapshot } from '../../src/snapshot/failed-snapshot.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import { MINIMAL_PROCFS } from '../../testkit/exporter/exporter-procfs.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import { familyTypes, samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

function configFor(argv: string[]): ExporterConfig {
  const parsed = parseExporterArgs(['--path.procfs', MINIMAL_PROCFS, ...argv]);
  if (!parsed.ok || !('config' in parsed.command)) throw new Error('bad test flags');
  return parsed.command.config;
}

interface TestServer {
  readonly app: ExporterApp;
  readonly metrics: ExporterMetrics;
  readonly config: ExporterConfig;
  readonly logLines: () => Record<string, unknown>[];
}

const apps: ExporterApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function server(argv: string[] = [], level = 'info'): Promise<TestServer> {
  const config = configFor(argv);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const metrics = new ExporterMetrics({ collectors: config.collectors, version: '1.2.3' });
  const app = await buildApp(config, { metrics, logger: pino({ level }, sink), version: '1.2.3' });
  apps.push(app);
  return {
    app,
    metrics,
    config,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A real sample of the committed fixture tree. */
function fixtureSnapshot(): Snapshot {
  return sampleProcfs({ procfsRoot: MINIMAL_PROCFS });
}

describe('buildApp', () => {
  it('answers /-/healthy at once and /-/ready while the latest sample succeeded', async () => {
    const { app, metrics, config } = await server();
    expect((await app.inject('/-/healthy')).statusCode).toBe(200);
    const before = await app.inject('/-/ready');
    expect(before.statusCode).toBe(503);
    expect(before.body).toBe('Not ready: waiting for the first sample\n');

    // A sampler that died produced nothing usable: still not ready.
    metrics.update(failedSnapshot(sampleOptionsFor(config), Date.now(), 0.1, 'worker died'));
    expect((await app.inject('/-/ready')).statusCode).toBe(503);

    metrics.update(fixtureSnapshot());
    const after = await app.inject('/-/ready');
    expect(after.statusCode).toBe(200);
    expect(after.body).toBe('Ready\n');
    expect((await app.inject('/-/healthy')).body).toBe('Healthy\n');

    // Ready is not for good: a later failed sample makes it 503 again, with the reason.
    metrics.update(failedSnapshot(sampleOptionsFor(config), Date.now(), 0.1, 'worker died'));
    const failed = await app.inject('/-/ready');
    expect(failed.statusCode).toBe(503);
    expect(failed.body).toBe('Not ready: the latest sample failed: worker died\n');
    expect((await app.inject('/-/healthy')).statusCode).toBe(200);
  });

  it('stays ready when only a source other than the socket tables fails', async () => {
    const { app, metrics } = await server();
    const snapshot = fixtureSnapshot();
    metrics.update({
      ...snapshot,
      sources: { ...snapshot.sources, netstat: { success: false, durationSeconds: 0, error: 'x' } },
    });
    expect((await app.inject('/-/ready')).statusCode).toBe(200);
  });

  it('serves the latest snapshot in text format 0.0.4 by default', async () => {
    const { app, metrics } = await server();
    const snapshot = fixtureSnapshot();
    metrics.update(snapshot);
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(samplesOf(response.body, 'tcpstate_sockets')).toHaveLength(22);
    expect(
      sampleValue(response.body, 'tcpstate_sockets', { family: 'ipv4', state: 'time_wait' }),
    ).toBe(snapshot.sockets?.states.ipv4.time_wait);
    expect(
      sampleValue(response.body, 'tcpstate_local_port_sockets', {
        port: '9000',
        state: 'fin_wait2',
      }),
    ).toBe(1);
    expect(familyTypes(response.body).get('tcpstate_active_opens_total')).toBe('counter');
  });

  it('serves OpenMetrics to a scraper that asks for it, like Prometheus', async () => {
    const { app, metrics } = await server();
    metrics.update(fixtureSnapshot());
    const response = await app.inject({ url: '/metrics', headers: { accept: PROMETHEUS_ACCEPT } });
    expect(response.headers['content-type']).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    expect(response.headers.vary).toMatch(/Accept/);
    expect(response.body.endsWith('# EOF\n')).toBe(true);
    expect(familyTypes(response.body).get('tcpstate_active_opens')).toBe('counter');
    expect(samplesOf(response.body, 'tcpstate_active_opens_total')).toHaveLength(1);
  });

  it('gzips the exposition when the client accepts it', async () => {
    const { app, metrics } = await server();
    metrics.update(fixtureSnapshot());
    const plain = await app.inject('/metrics');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const zipped = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const body = gunzipSync(zipped.rawPayload).toString('utf8');
    const tcpstateLines = (text: string) =>
      text.split('\n').filter((line) => line.startsWith('tcpstate_sockets'));
    expect(tcpstateLines(body)).toEqual(tcpstateLines(plain.body));
    expect(tcpstateLines(body)).toHaveLength(22);
    // Two gzip members (the sample part, then the per-scrape part), read as one stream.
    expect(body.split('\n').filter((line) => line.startsWith('process_cpu'))).toHaveLength(
      plain.body.split('\n').filter((line) => line.startsWith('process_cpu')).length,
    );
    const refused = await app.inject({
      url: '/metrics',
      headers: { 'accept-encoding': 'gzip;q=0, identity' },
    });
    expect(refused.headers['content-encoding']).toBeUndefined();
  });

  it('renders the sample part once per sample, shared by concurrent scrapes', async () => {
    const renders = vi.spyOn(SampleExposition.prototype, 'render');
    try {
      const { app, metrics } = await server();
      metrics.update(fixtureSnapshot());
      const scrapes = await Promise.all(
        Array.from({ length: 20 }, () =>
          app.inject({ url: '/metrics', headers: { accept: PROMETHEUS_ACCEPT } }),
        ),
      );
      expect(scrapes.every((scrape) => scrape.statusCode === 200)).toBe(true);
      // The live part (process_*, nodejs_*) may be refreshed between two of them.
      const sampleParts = scrapes.map((scrape) =>
        scrape.body.replace(/^(process_|nodejs_).*$/gm, ''),
      );
      expect(new Set(sampleParts).size).toBe(1);
      // Every format and encoding of the sample in one render; scrapes render none of it.
      expect(renders).toHaveBeenCalledTimes(1);
      await app.inject({ url: '/metrics', headers: { accept: PROMETHEUS_ACCEPT } });
      expect(renders).toHaveBeenCalledTimes(1);
      metrics.update(fixtureSnapshot());
      expect(renders).toHaveBeenCalledTimes(2);
    } finally {
      renders.mockRestore();
    }
  });

  it('keeps the process metrics live between samples, at most 1.5 s old', async () => {
    const { app, metrics } = await server();
    metrics.update(fixtureSnapshot());
    const cpu = async () =>
      sampleValue((await app.inject('/metrics')).body, 'process_cpu_user_seconds_total') ?? 0;
    const first = await cpu();
    const started = process.cpuUsage();
    while (process.cpuUsage(started).user < 50_000) {}
    await vi.waitFor(async () => expect(await cpu()).toBeGreaterThan(first), {
      timeout: 3_000,
      interval: 100,
    });
  });

  it('serves metrics at --web.telemetry-path only', async () => {
    const { app, metrics } = await server(['--web.telemetry-path', '/probe/tcp']);
    metrics.update(fixtureSnapshot());
    const response = await app.inject('/probe/tcp');
    expect(response.statusCode).toBe(200);
    expect(samplesOf(response.body, 'tcpstate_sockets')).toHaveLength(22);
    expect((await app.inject('/metrics')).statusCode).toBe(404);
  });

  it('loads no JSON-schema compiler, and refuses a route that would need one', async () => {
    const { app } = await server();
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    // fast-json-stringify's small runtime serializer stays: Fastify's error replies use it.
    const compilers =
      /\/node_modules\/(ajv\/|@fastify\/ajv-compiler\/|fast-json-stringify\/index\.js)/;
    expect(loaded.filter((path) => compilers.test(path))).toEqual([]);
    expect(loaded.some((path) => path.includes('/node_modules/fastify/'))).toBe(true);
    app.get('/validated', { schema: { querystring: { type: 'object' } } }, async () => 'x');
    await expect(app.ready()).rejects.toThrow(/compiles no JSON schemas/);
  });

  it('gzips the page, its data and its assets when the client accepts it', async () => {
    const { app, metrics } = await server();
    metrics.update(fixtureSnapshot());
    for (const url of ['/', '/api/page', '/static/uPlot.iife.min.js']) {
      const plain = await app.inject(url);
      expect(plain.statusCode, url).toBe(200);
      expect(plain.headers['content-encoding'], url).toBeUndefined();
      expect(plain.headers.vary, url).toMatch(/Accept-Encoding/);
      const zipped = await app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate' } });
      expect(zipped.headers['content-encoding'], url).toBe('gzip');
      expect(zipped.headers['content-type'], url).toBe(plain.headers['content-type']);
      expect(zipped.rawPayload.length, url).toBeLessThan(plain.rawPayload.length);
      expect(gunzipSync(zipped.rawPayload).toString('utf8'), url).toBe(plain.body);
    }
    const tiny = await app.inject({ url: '/-/healthy', headers: { 'accept-encoding': 'gzip' } });
    expect(tiny.headers['content-encoding']).toBeUndefined();
  });

  it('answers 404 elsewhere', async () => {
    const { app } = await server();
    for (const url of ['/nope', '/-/', '/metrics/extra']) {
      expect((await app.inject(url)).statusCode, url).toBe(404);
    }
    expect((await app.inject({ method: 'POST', url: '/metrics' })).statusCode).toBe(404);
  });

  it('shows a landing page with version, metrics link, configuration and collector status', async () => {
    const { app, metrics } = await server(['--no-collector.sysctl', '--sample.interval=1m30s']);
    const waiting = await app.inject('/');
    expect(waiting.statusCode).toBe(200);
    expect(waiting.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(waiting.body).toContain('No sample yet');
    expect(waiting.body).toMatch(/<td>sockets<\/td><td>waiting for the first sample<\/td>/);

    const snapshot = fixtureSnapshot();
    const { netstat: _dropped, ...withoutNetstat } = snapshot;
    metrics.update({
      ...withoutNetstat,
      sources: {
        ...snapshot.sources,
        netstat: { success: false, durationSeconds: 0, error: 'cannot read <net/netstat>' },
      },
    });
    const page = (await app.inject('/')).body;
    expect(page).toContain('Version 1.2.3');
    expect(page).toContain('<a href="/metrics">');
    expect(page).toContain(`Last sample at ${new Date(snapshot.timestampMs).toISOString()}`);
    expect(page).toMatch(/<td>sockets<\/td><td>ok \(\d+\.\d ms\)<\/td>/);
    expect(page).toContain('<td>netstat</td><td>failing: cannot read &lt;net/netstat&gt;</td>');
    expect(page).toContain('<td>sysctl</td><td>disabled</td>');
    expect(page).toContain('<td>--sample.interval</td><td>1m30s</td>');
    expect(page).toContain(`<td>--path.procfs</td><td>${MINIMAL_PROCFS}</td>`);
  });

  it('logs nothing per scrape at info, and one debug line per request at debug', async () => {
    const quiet = await server();
    quiet.metrics.update(fixtureSnapshot());
    for (let scrape = 0; scrape < 3; scrape++) await quiet.app.inject('/metrics');
    await quiet.app.inject('/nope');
    expect(quiet.logLines()).toEqual([]);

    const chatty = await server([], 'debug');
    await chatty.app.inject('/metrics');
    const requests = chatty.logLines().filter((line) => line.msg === 'request');
    expect(requests).toEqual([
      expect.objectContaining({ level: 20, method: 'GET', url: '/metrics', status: 200 }),
    ]);
  });
});
