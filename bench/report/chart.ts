/**
 * The chart in docs/benchmarks.png: CPU per socket against table size, one line per
 * tool, for real kernel tables and for synthetic ones. Drawn as SVG by hand (no chart
 * library), rendered to PNG with resvg.
 */
import { Resvg } from '@resvg/resvg-js';
import { formatSize } from '../lib/options.js';
import { type CostMeasurement, TOOLS, type Tool } from '../lib/results.js';

const WIDTH = 1200;
const HEIGHT = 640;
/** The bottom margin holds the axis label and up to three legend rows. */
const PANEL = { top: 70, bottom: 170, left: 80, right: 30, gap: 90 } as const;
const LEGEND_COLUMNS = 4;

const COLORS: Readonly<Record<Tool, string>> = {
  cat: '#444444',
  'read-only': '#8c564b',
  engine: '#d62728',
  decoder: '#bcbd22',
  parser: '#ff7f0e',
  naive: '#1f77b4',
  'naive-parse': '#17becf',
  'ss-awk': '#2ca02c',
  'node-exporter': '#9467bd',
};

const NAMES: Readonly<Record<Tool, string>> = {
  cat: 'cat',
  'read-only': 'read() loop in Node',
  engine: 'tcpstate-exporter sample',
  decoder: 'line decoder, cached text',
  parser: 'decoder + aggregation, cached',
  naive: 'naive split parser',
  'naive-parse': 'naive split, cached text',
  'ss-awk': 'ss -tan | awk | sort | uniq',
  'node-exporter': 'node_exporter tcpstat',
};

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(max: number): number {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * power >= rough) ?? 10;
  return step * power;
}

interface Panel {
  readonly title: string;
  readonly rows: readonly CostMeasurement[];
}

function panelSvg(panel: Panel, x0: number, width: number): string {
  const y0 = PANEL.top;
  const height = HEIGHT - PANEL.top - PANEL.bottom;
  const sizes = [...new Set(panel.rows.map((row) => row.sockets))].sort((a, b) => a - b);
  const minSize = Math.min(...sizes);
  const maxSize = Math.max(...sizes);
  const logSpan = Math.log10(maxSize) - Math.log10(minSize) || 1;
  const xOf = (sockets: number) =>
    sizes.length === 1
      ? x0 + width / 2
      : x0 + 20 + ((Math.log10(sockets) - Math.log10(minSize)) / logSpan) * (width - 40);
  const maxValue = Math.max(...panel.rows.map((row) => row.cpuMicrosPerSocket)) * 1.1;
  const step = niceStep(maxValue);
  const top = Math.ceil(maxValue / step) * step;
  const yOf = (value: number) => y0 + height - (value / top) * height;
  const parts: string[] = [
    `<text x="${x0 + width / 2}" y="${y0 - 22}" font-size="20" font-weight="bold" text-anchor="middle">${escapeXml(panel.title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="#999"/>`,
  ];
  for (let value = 0; value <= top + step / 2; value += step) {
    const y = yOf(value);
    parts.push(
      `<line x1="${x0}" y1="${y}" x2="${x0 + width}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${x0 - 8}" y="${y + 5}" font-size="14" text-anchor="end">${Number(value.toFixed(3))}</text>`,
    );
  }
  for (const sockets of sizes) {
    parts.push(
      `<text x="${xOf(sockets)}" y="${y0 + height + 22}" font-size="14" text-anchor="middle">${formatSize(roundSize(sockets))}</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + width / 2}" y="${y0 + height + 48}" font-size="15" text-anchor="middle">sockets in the table (log scale)</text>`,
    `<text transform="translate(${x0 - 55} ${y0 + height / 2}) rotate(-90)" font-size="15" text-anchor="middle">CPU µs per socket (user + system)</text>`,
  );
  for (const tool of TOOLS) {
    const points = panel.rows
      .filter((row) => row.tool === tool)
      .sort((a, b) => a.sockets - b.sockets)
      .map((row) => [xOf(row.sockets), yOf(row.cpuMicrosPerSocket)] as const);
    if (points.length === 0) continue;
    const color = COLORS[tool];
    const width = tool === 'engine' ? 4 : 2.5;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
      ...points.map(
        ([x, y]) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="5" fill="${color}"/>`,
      ),
    );
  }
  return parts.join('\n');
}

/** 99 998 sockets in a real table is the 100k size: label with the size asked for. */
function roundSize(sockets: number): number {
  const power = 10 ** Math.floor(Math.log10(sockets));
  return Math.round(sockets / power) * power;
}

export function chartSvg(
  real: readonly CostMeasurement[],
  synthetic: readonly CostMeasurement[],
): string {
  const panels: Panel[] = [
    { title: 'Real kernel tables (network namespace)', rows: real },
    { title: 'Synthetic tables on tmpfs', rows: synthetic },
  ].filter((panel) => panel.rows.length > 0);
  const panelWidth =
    (WIDTH - PANEL.left - PANEL.right - PANEL.gap * (panels.length - 1)) / panels.length;
  const body = panels.map((panel, index) =>
    panelSvg(panel, PANEL.left + index * (panelWidth + PANEL.gap), panelWidth),
  );
  const tools = TOOLS.filter((tool) => [...real, ...synthetic].some((row) => row.tool === tool));
  const legendWidth = (WIDTH - 40) / LEGEND_COLUMNS;
  const legendRows = Math.ceil(tools.length / LEGEND_COLUMNS);
  const legend = tools.map((tool, index) => {
    const x = 20 + (index % LEGEND_COLUMNS) * legendWidth;
    const y = HEIGHT - 26 * legendRows + 4 + Math.floor(index / LEGEND_COLUMNS) * 26;
    return `<line x1="${x}" y1="${y - 5}" x2="${x + 28}" y2="${y - 5}" stroke="${COLORS[tool]}" stroke-width="4"/><text x="${x + 34}" y="${y}" font-size="14">${escapeXml(NAMES[tool])}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${body.join('\n')}
${legend.join('\n')}
</svg>
`;
}

export function renderPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'width', value: WIDTH },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
