/**
 * What basic auth adds to a scrape (`npm run bench -- --only basic-auth`, docs/web.md). A loopback server
 * with one bcrypt user (cost 10, as `htpasswd -nBC 10` makes), scraped without auth, with
 * the right password (bcrypt once, then the verdict cache), and with a new password each time
 * (every request pays bcrypt: what each scrape would cost without the cache).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { parseExporterArgs } from '../../src/config/flags.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import { buildApp } from '../../src/server/app.js';
import { LiveWebConfig } from '../../src/server/web-config-reload.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import type { BenchContext } from '../lib/context.js';

const ROUNDS = 40;
const PROCFS = new URL('../../test/fixtures/minimal', import.meta.url).pathname;

async function serve(webConfigFile: string | undefined) {
  const parsed = parseExporterArgs(['--path.procfs', PROCFS]);
  if (!parsed.ok || !('config' in parsed.command)) throw new Error('bad flags');
  const { config } = parsed.command;
  const logger = pino({ level: 'silent' });
  const metrics = new ExporterMetrics({ collectors: config.collectors, version: 'bench' });
  metrics.update(sampleProcfs({ procfsRoot: PROCFS }));
  const web =
    webConfigFile === undefined ? undefined : await LiveWebConfig.load(webConfigFile, logger);
  const app = await buildApp(config, {
    metrics,
    logger,
    version: 'bench',
    ...(web === undefined ? {} : { webConfig: web }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}/metrics` };
}

async function timeScrapes(url: string, authorization: (round: number) => string | undefined) {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const header = authorization(round);
    const start = performance.now();
    const response = await fetch(
      url,
      header === undefined ? {} : { headers: { authorization: header } },
    );
    await response.arrayBuffer();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] as number, first: times.at(-1) as number };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export async function runBasicAuthPart(context: BenchContext): Promise<void> {
  const configFile = join(context.scratchDir('basic-auth'), 'web.yml');
  writeFileSync(
    configFile,
    `basic_auth_users:\n  prometheus: "${bcrypt.hashSync('secret', 10)}"\n`,
  );
  const open = await serve(undefined);
  const guarded = await serve(configFile);
  try {
    // Warm-up: the first scrapes of a process pay for JIT compilation.
    await timeScrapes(open.url, () => undefined);
    const none = await timeScrapes(open.url, () => undefined);
    const cached = await timeScrapes(guarded.url, () => basic('prometheus', 'secret'));
    const uncached = await timeScrapes(guarded.url, (round) =>
      basic('prometheus', `wrong-${round}`),
    );
    const round = (ms: number) => Math.round(ms * 100) / 100;
    context.emit({
      kind: 'basic-auth',
      rounds: ROUNDS,
      noAuthMs: round(none.median),
      cachedMs: round(cached.median),
      cachedFirstMs: round(cached.first),
      bcryptEveryTimeMs: round(uncached.median),
    });
  } finally {
    await open.app.close();
    await guarded.app.close();
  }
}
