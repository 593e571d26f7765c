/**
 * --web.max-requests and the response headers, against a real loopback server: requests held
 * open by a test route fill the limit, and bounded autocannon load checks that the server
 * refuses the excess with 503 and recovers.
 */
import autocannon from 'autocannon';
import { afterEach, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../src/server/web-guard.js';
import { type ServedApp, serveApp } from '../../testkit/exporter/exporter-app.js';
import { makeTlsFixtures } from '../../testkit/exporter/tls-fixtures.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const served: ServedApp[] = [];
afterEach(async () => {
  for (const one of served.splice(0)) await one.close();
});

/** A server with `/held`, which answers only when the test releases it. */
async function serveWithHeldRoute(argv: readonly string[], delayMs?: number) {
  const waiting: (() => void)[] = [];
  const inside = { now: 0, peak: 0 };
  const one = await serveApp({
    argv,
    prepare(app) {
      app.get('/held', async () => {
        inside.now++;
        inside.peak = Math.max(inside.peak, inside.now);
        await new Promise<void>((release) => {
          if (delayMs === undefined) waiting.push(release);
          else setTimeout(release, delayMs);
        });
        inside.now--;
        return 'released\n';
      });
    },
  });
  served.push(one);
  return { ...one, waiting, inside };
}

describe('--web.max-requests', () => {
  it('answers 503 beyond the limit, keeps probes answering, and frees slots as requests end', async () => {
    const { url, waiting } = await serveWithHeldRoute(['--web.max-requests=2']);
    const held = [fetch(`${url}/held`), fetch(`${url}/held`)];
    await waitFor(() => (waiting.length === 2 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      describe: () => `${waiting.length} requests held`,
    });
    const refused = await fetch(`${url}/metrics`);
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('--web.max-requests=2');
    expect((await fetch(`${url}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${url}/-/ready?verbose`)).status).toBe(200);
    for (const release of waiting.splice(0)) release();
    expect((await Promise.all(held)).map((response) => response.status)).toEqual([200, 200]);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('frees the slot of a client that goes away', async () => {
    const { url, waiting } = await serveWithHeldRoute(['--web.max-requests=1']);
    const abort = new AbortController();
    const gone = fetch(`${url}/held`, { signal: abort.signal }).catch(() => 'aborted');
    await waitFor(() => (waiting.length === 1 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      describe: () => 'one request held',
    });
    expect((await fetch(`${url}/metrics`)).status).toBe(503);
    abort.abort();
    expect(await gone).toBe('aborted');
    await waitFor(async () => ((await fetch(`${url}/metrics`)).status === 200 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 50,
      describe: () => 'the slot freed',
    });
  });

  it('under bounded load answers only 200 or 503, never more than the limit at once', async () => {
    const { url, inside } = await serveWithHeldRoute(['--web.max-requests=4'], 20);
    const result = await autocannon({ url: `${url}/held`, connections: 16, amount: 400 });
    const statuses = Object.keys(result.statusCodeStats).sort();
    expect(statuses).toEqual(['200', '503']);
    expect(result.errors).toBe(0);
    expect(result.statusCodeStats['200']?.count).toBeGreaterThan(0);
    expect(result.statusCodeStats['503']?.count).toBeGreaterThan(0);
    expect(inside.peak).toBe(4);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);

    const unlimited = await serveWithHeldRoute(['--web.max-requests=0'], 20);
    const all = await autocannon({ url: `${unlimited.url}/held`, connections: 16, amount: 200 });
    expect(Object.keys(all.statusCodeStats)).toEqual(['200']);
    expect(unlimited.inside.peak).toBeGreaterThan(4);
  });
});

describe('response headers', () => {
  it('sends the CSP, nosniff, frame denial and no-referrer on pages, metrics and errors', async () => {
    const one = await serveApp();
    served.push(one);
    for (const path of ['/', '/metrics', '/api/page', '/static/page.js', '/nowhere']) {
      const response = await fetch(`${one.url}${path}`);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        expect(response.headers.get(name), `${path} ${name}`).toBe(value);
      }
    }
    expect(SECURITY_HEADERS['Content-Security-Policy']).not.toContain('unsafe');
  });

  it('lets the web config set the headers exporter-toolkit allows, and applies its rate limit', async () => {
    const fixtures = makeTlsFixtures();
    try {
      const one = await serveApp({
        webConfigFile: fixtures.writeConfig({
          http_server_config: {
            headers: {
              'X-Frame-Options': 'sameorigin',
              'Strict-Transport-Security': 'max-age=31536000',
            },
          },
          rate_limit: { interval: '1m', burst: 2 },
        }),
      });
      served.push(one);
      const first = await fetch(`${one.url}/metrics`);
      expect(first.headers.get('x-frame-options')).toBe('sameorigin');
      expect(first.headers.get('strict-transport-security')).toBe('max-age=31536000');
      expect(first.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await fetch(`${one.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${one.url}/metrics`)).status).toBe(429);
    } finally {
      fixtures.remove();
    }
  });
});
