/**
 * The page's script, style and charting library (uPlot), served by the exporter itself:
 * hosts often have no internet, and a CDN would also widen the CSP. Read from disk at each
 * request (the page loads them once per visit), so the daemon holds none of them.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** src/page, copied to dist/page by the build: beside this module's directory in both. */
const PAGE_DIR = new URL('../page/', import.meta.url);
const require = createRequire(import.meta.url);

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

const ASSETS: Readonly<Record<string, { readonly path: () => string; readonly type: string }>> = {
  'page.js': { path: () => fileURLToPath(new URL('page.js', PAGE_DIR)), type: JS },
  'page.css': { path: () => fileURLToPath(new URL('page.css', PAGE_DIR)), type: CSS },
  'favicon.svg': {
    path: () => fileURLToPath(new URL('favicon.svg', PAGE_DIR)),
    type: 'image/svg+xml',
  },
  'uPlot.iife.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: JS },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: CSS },
};

export const ASSET_PREFIX = '/static/';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** The asset by file name, or undefined for names that are not the page's. */
export function pageAsset(name: string): Promise<Asset> | undefined {
  const spec = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (spec === undefined) return undefined;
  return readFile(spec.path()).then((body) => ({ type: spec.type, body }));
}
