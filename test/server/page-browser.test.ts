/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The landing page in a real browser (Debian's Chromium, driven by playwright-core; no browser
 * is downloaded), served over TLS behind basic auth and opened as a user would type it, with
 * the credentials in the URL (https://user:pass@host/): it renders without a console error or
 * CSP violation, its charts and tables show the fixture's numbers, and a failing fetch of its
 * data shows why on the page. UPDATE_SCREENSHOT=1 also writes the screenshot the README shows
 * (docs/landing-page.png).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/snapshot/model.js';
import { type ServedApp, serveApp } from '../../testkit/exporter/exporter-app.js';
import { REPO_ROOT } from '../../testkit/exporter/exporter-cli.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import { makeTlsFixtures, type TlsFixtures } from '../../testkit/exporter/tls-fixtures.js';
import { canRun } from '../../testkit/kernel/capabilities.js';

const CHROMIUM = '/usr/bin/chromium';
const FIXTURE = join(REPO_ROOT, 'test/fixtures/client-timewait/proc');
const SAMPLES = 60;
const INTERVAL_S = 5;

/**
 * A TIME_WAIT build-up ending in the fixture's own sample: each earlier sample holds 10
 * fewer TIME_WAIT sockets, and the TcpExt TW counter rises with them (2 created/s).
 */
function buildUp(fixture: Snapshot): Snapshot[] {
  const tables = fixture.sockets;
  const netstat = fixture.netstat;
  if (tables === undefined || netstat === undefined) throw new Error('fixture lacks tables');
  const finalTimeWait = tables.states.ipv4.time_wait;
  return Array.from({ length: SAMPLES }, (_, index) => {
    if (index === SAMPLES - 1) return fixture;
    const timeWait = Math.max(0, finalTimeWait - (SAMPLES - 1 - index) * 10);
    const tw = (netstat.tcpExt.TW ?? 0) - finalTimeWait + timeWait;
    return {
      ...fixture,
      timestampMs: fixture.timestampMs - (SAMPLES - 1 - index) * INTERVAL_S * 1000,
      sockets: {
        ...tables,
        states: { ...tables.states, ipv4: { ...tables.states.ipv4, time_wait: timeWait } },
      },
      netstat: { ...netstat, tcpExt: { ...netstat.tcpExt, TW: tw } },
    };
  });
}

/** `https://viewer:page@host:port/`: how a user with basic auth opens the page. */
function withCredentials(url: string): string {
  const typed = new URL(url);
  typed.username = 'viewer';
  typed.password = 'page';
  return typed.href;
}

describe.skipIf(
  !canRun('the landing page in headless Chromium', { commands: [CHROMIUM, 'openssl'] }),
)('landing page in Chromium', () => {
  let fixtures: TlsFixtures;
  let served: ServedApp;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const fixture = sampleProcfs({ procfsRoot: FIXTURE });
  const snapshots = buildUp(fixture);

  beforeAll(async () => {
    fixtures = makeTlsFixtures();
    served = await serveApp({
      argv: [`--sample.interval=${INTERVAL_S}s`, '--path.procfs=/proc'],
      snapshots,
      webConfigFile: fixtures.writeConfig({
        tls_server_config: { cert_file: 'server.pem', key_file: 'server.key' },
        basic_auth_users: { viewer: bcrypt.hashSync('page', 4) },
      }),
    });
    profile = mkdtempSync(join(tmpdir(), 'tsa-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        problems.push(`${message.type()}: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await page.goto(withCredentials(served.url));
    await page.waitForSelector('body[data-samples]', { timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await served?.close();
    fixtures?.remove();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  it('renders without console errors or CSP violations', () => {
    expect(problems).toEqual([]);
  });

  it('draws the state charts and captions with the fixture numbers', async () => {
    expect(await page.getAttribute('body', 'data-samples')).toBe(String(SAMPLES));
    const states = fixture.sockets?.states;
    expect(await page.textContent('#caption-ipv4')).toBe(
      `IPv4 now: ESTABLISHED ${states?.ipv4.established}, TIME_WAIT ${states?.ipv4.time_wait}, LISTEN ${states?.ipv4.listen}`,
    );
    expect(await page.textContent('#caption-ipv6')).toBe(`IPv6 now: LISTEN ${states?.ipv6.listen}`);
    const last = snapshots.at(-1)?.netstat?.tcpExt.TW ?? 0;
    const before = snapshots.at(-2)?.netstat?.tcpExt.TW ?? 0;
    expect(await page.textContent('#caption-timewait')).toBe(
      `now: created ${(last - before) / INTERVAL_S}/s, reused 0/s`,
    );
    // Three uPlot charts, each with painted pixels.
    const painted = await page.$$eval('.chart canvas', (canvases) =>
      canvases.map((canvas) => {
        const context2d = (canvas as HTMLCanvasElement).getContext('2d');
        const { width, height } = canvas as HTMLCanvasElement;
        const pixels = context2d?.getImageData(0, 0, width, height).data ?? [];
        let opaque = 0;
        for (let index = 3; index < pixels.length; index += 4)
          if ((pixels[index] ?? 0) > 0) opaque++;
        return opaque;
      }),
    );
    expect(painted).toHaveLength(3);
    for (const count of painted) expect(count).toBeGreaterThan(100);
  });

  it('lists the destinations by headroom and the per-port tables', async () => {
    const rows = await page.$$eval('#destinations tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    const destinations = fixture.sockets?.ephemeral?.destinations ?? [];
    const usable = fixture.sockets?.ephemeral?.usable ?? 0;
    expect(rows).toHaveLength(destinations.length);
    const worst = destinations[0];
    expect(rows[0]?.slice(0, 4)).toEqual([
      worst?.localAddress,
      `${worst?.remoteAddress}:${worst?.remotePort}`,
      `${worst?.used} of ${usable.toLocaleString('en-US')}`,
      `${((1 - (worst?.used ?? 0) / usable) * 100).toFixed(1)}%`,
    ]);
    const barWidth = await page.$eval(
      '#destinations .fill',
      (fill) => (fill as HTMLElement).style.width,
    );
    expect(barWidth).toBe(`${Math.round((1 - (worst?.used ?? 0) / usable) * 100)}%`);
    const remote = await page.$$eval('#remote-ports tbody tr td:first-child', (tds) =>
      tds.map((td) => td.textContent),
    );
    expect(remote.sort()).toEqual(
      (fixture.sockets?.remotePorts ?? []).map((port) => String(port.port)).sort(),
    );
    expect(await page.textContent('#collectors')).toContain('ephemeral');
  });

  it('was opened with the credentials in its URL, and fetched its data without them', async () => {
    // Chromium hides them from location.href, but relative URLs resolve against the base URL.
    expect(new URL(await page.evaluate(() => document.baseURI)).username).toBe('viewer');
    const fetched = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((entry) => entry.name),
    );
    const data = fetched.filter((name) => new URL(name).pathname === '/api/page');
    expect(data.length).toBeGreaterThan(0);
    for (const name of data) expect(new URL(name).username).toBe('');
    expect(await page.getAttribute('body', 'data-problem')).toBeNull();
    expect(await page.textContent('#live-status')).toMatch(/^60 of \d+ samples kept/);
  });

  it('shows why its data cannot be loaded instead of blank charts', async () => {
    const failing = await context.newPage();
    try {
      await failing.route('**/api/page', (route) =>
        route.fulfill({ status: 503, contentType: 'text/plain', body: 'sampler stopped\n' }),
      );
      await failing.goto(withCredentials(served.url));
      await failing.waitForSelector('body[data-problem]', { timeout: 30_000 });
      expect(await failing.getAttribute('body', 'data-problem')).toBe(
        'HTTP 503 Service Unavailable: sampler stopped',
      );
      expect(await failing.isVisible('#live-status')).toBe(true);
      expect(await failing.textContent('#live-status')).toBe(
        'Cannot load /api/page: HTTP 503 Service Unavailable: sampler stopped; retrying every 5 s.',
      );
      expect(await failing.getAttribute('#live-status', 'class')).toContain('failing');
      // No half-drawn charts under the message.
      expect(await failing.isVisible('#live')).toBe(false);

      // A request that never gets a response: the browser's own reason.
      await failing.unroute('**/api/page');
      await failing.route('**/api/page', (route) => route.abort('connectionrefused'));
      await failing.reload();
      await failing.waitForSelector('body[data-problem]', { timeout: 30_000 });
      expect(await failing.textContent('#live-status')).toBe(
        'Cannot load /api/page: Failed to fetch; retrying every 5 s.',
      );
    } finally {
      await failing.close();
    }
  });

  it('enforces its CSP: an injected inline script is refused', async () => {
    const violated = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          document.addEventListener('securitypolicyviolation', (event) =>
            resolve(event.violatedDirective),
          );
          const script = document.createElement('script');
          script.textContent = 'document.body.dataset.injected = "yes"';
          document.body.append(script);
        }),
    );
    expect(violated).toMatch(/^script-src/);
    expect(await page.getAttribute('body', 'data-injected')).toBeNull();
  });

  it('saves a screenshot', async () => {
    const target =
      process.env.UPDATE_SCREENSHOT === '1'
        ? join(REPO_ROOT, 'docs/landing-page.png')
        : join(profile, 'landing-page.png');
    await page.screenshot({ path: target, fullPage: true });
    // The file written is a PNG of the whole page as laid out (IHDR: width, height at 16, 20).
    const png = readFileSync(target);
    expect(png.subarray(0, 8)).toEqual(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'));
    const size = await page.evaluate(() => ({
      width: document.documentElement.scrollWidth,
      height: document.documentElement.scrollHeight,
    }));
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual(size);
    // Drawn, not blank: the charts put their canvases on the page before it was taken.
    expect(await page.locator('canvas').count()).toBeGreaterThan(0);
  });
});
