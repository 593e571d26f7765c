/**
 * The landing page at `/`: what this is, where the metrics are, how sampling goes, and the
 * live part (charts and tables drawn by src/page/page.js from the page's JSON). Without script it
 * still shows the status as of its load. No inline script or style: the CSP forbids them.
 */
import type { Snapshot } from '../snapshot/model.js';
import type { CollectorView } from './page-data.js';

export interface LandingPageData {
  readonly version: string;
  readonly telemetryPath: string;
  readonly effectiveFlags: Readonly<Record<string, string>>;
  /** Undefined before the first sample. */
  readonly snapshot: Snapshot | undefined;
  readonly collectors: readonly CollectorView[];
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

function collectorRows(collectors: readonly CollectorView[]): string {
  return collectors
    .map((view) => `<tr><td>${escapeHtml(view.name)}</td><td>${escapeHtml(view.text)}</td></tr>`)
    .join('\n');
}

function sampleLine(snapshot: Snapshot | undefined): string {
  if (snapshot === undefined) return 'No sample yet: waiting for the first one.';
  const at = new Date(snapshot.timestampMs).toISOString();
  const took = (snapshot.durationSeconds * 1000).toFixed(1);
  return `Last sample at ${escapeHtml(at)}, took ${escapeHtml(took)} ms.`;
}

export function renderLandingPage(data: LandingPageData): string {
  const path = escapeHtml(data.telemetryPath);
  const flags = Object.entries(data.effectiveFlags)
    .map(([name, value]) => `<tr><td>--${escapeHtml(name)}</td><td>${escapeHtml(value)}</td></tr>`)
    .join('\n');
  // Relative URLs, so the page also works behind a reverse proxy's path prefix.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tcpstate-exporter</title>
<link rel="icon" href="static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="static/uPlot.min.css">
<link rel="stylesheet" href="static/page.css">
<script src="static/uPlot.iife.min.js" defer></script>
<script src="static/page.js" defer></script>
</head>
<body>
<h1>tcpstate-exporter</h1>
<p>Linux TCP socket states, per-port counts and ephemeral-port headroom per destination. Version ${escapeHtml(data.version)}.</p>
<p><a href="${path}">Metrics</a> &middot; <a href="/-/healthy">Health</a> &middot; <a href="/-/ready">Readiness</a> &middot; <a href="api/page">Page data (JSON)</a></p>
<p id="live-status" class="status"></p>
<main id="live" hidden>
<h2>Sockets by state</h2>
<div class="charts">
<figure><div id="chart-ipv4" class="chart"></div><figcaption id="caption-ipv4"></figcaption></figure>
<figure><div id="chart-ipv6" class="chart"></div><figcaption id="caption-ipv6"></figcaption></figure>
</div>
<h2>TIME_WAIT created and reused per second</h2>
<figure><div id="chart-timewait" class="chart"></div><figcaption id="caption-timewait"></figcaption></figure>
<h2>Destinations closest to ephemeral-port exhaustion</h2>
<p id="ephemeral-summary"></p>
<table id="destinations">
<thead><tr><th>local address</th><th>destination</th><th>ports used</th><th>headroom</th><th>TIME_WAIT</th><th>port hold</th><th>sustained connect() rate</th></tr></thead>
<tbody></tbody>
</table>
<div class="ports">
<section><h2>Inbound, by listening port</h2>
<table id="listen-ports"><thead></thead><tbody></tbody></table></section>
<section><h2>Outbound, by remote port</h2>
<table id="remote-ports"><thead></thead><tbody></tbody></table></section>
</div>
</main>
<h2>Sampling</h2>
<p id="sample-line">${sampleLine(data.snapshot)}</p>
<table id="collectors">
<thead><tr><th>collector</th><th>status</th></tr></thead>
<tbody>
${collectorRows(data.collectors)}
</tbody>
</table>
<h2>Configuration</h2>
<table>
<tr><th>flag</th><th>value</th></tr>
${flags}
</table>
</body>
</html>
`;
}
