/** The landing page at `/`: what this is, where the metrics are, and how sampling goes. */
import type { CollectorStatus } from '../metrics/collectors.js';
import type { Snapshot } from '../snapshot/model.js';

export interface LandingPageData {
  readonly version: string;
  readonly telemetryPath: string;
  readonly effectiveFlags: Readonly<Record<string, string>>;
  /** Undefined before the first sample. */
  readonly snapshot: Snapshot | undefined;
  readonly collectors: readonly { readonly name: string; readonly enabled: boolean }[];
  readonly statuses: readonly CollectorStatus[];
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

function collectorRows(data: LandingPageData): string {
  const statusByName = new Map(data.statuses.map((status) => [status.name, status]));
  return data.collectors
    .map(({ name, enabled }) => {
      const status = statusByName.get(name as CollectorStatus['name']);
      let state: string;
      if (!enabled) state = 'disabled';
      else if (status === undefined) state = 'waiting for the first sample';
      else if (status.success) state = `ok (${(status.durationSeconds * 1000).toFixed(1)} ms)`;
      else state = `failing: ${status.error ?? 'unknown error'}`;
      return `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(state)}</td></tr>`;
    })
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
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>tcpstate-exporter</title></head>
<body>
<h1>tcpstate-exporter</h1>
<p>Linux TCP socket states, per-port counts and ephemeral-port headroom per destination. Version ${escapeHtml(data.version)}.</p>
<p><a href="${path}">Metrics</a> &middot; <a href="/-/healthy">Health</a> &middot; <a href="/-/ready">Readiness</a></p>
<h2>Sampling</h2>
<p>${sampleLine(data.snapshot)}</p>
<table>
<tr><th>collector</th><th>status</th></tr>
${collectorRows(data)}
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
