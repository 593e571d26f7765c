// The live part of tcpstate-exporter's landing page: polls the page's JSON (api/page) once
// per sample interval and redraws the charts (uPlot, served by the exporter) and tables.
// Loaded as a file, never inline: the page's Content-Security-Policy allows only 'self'.
/* global uPlot */

const STATE_COLORS = {
  established: '#2b8a3e',
  syn_sent: '#1971c2',
  syn_recv: '#0c8599',
  fin_wait1: '#9c36b5',
  fin_wait2: '#c2255c',
  time_wait: '#e8590c',
  close: '#495057',
  close_wait: '#e03131',
  last_ack: '#f08c00',
  listen: '#5c940d',
  closing: '#862e9c',
};
const PORT_COLUMNS = ['established', 'time_wait', 'close_wait'];
const MAX_PORT_ROWS = 20;
const MIN_POLL_MS = 1000;

/**
 * The page's JSON, resolved against the origin and path only: a document opened as
 * https://user:pass@host/ carries the credentials in its URL, a relative fetch would inherit
 * them, and the Fetch standard refuses a request URL with credentials. The path keeps a
 * reverse proxy's prefix.
 */
const PAGE_DATA_URL = new URL('api/page', `${location.origin}${location.pathname}`);

const charts = new Map();
/** Kernel state names in code order, as the JSON's history lists them. */
let stateNames = [];

function stateLabel(state) {
  return state.toUpperCase();
}

function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const td of cells) tr.append(td);
  return tr;
}

function chartWidth(container) {
  return Math.max(300, Math.floor(container.getBoundingClientRect().width));
}

/** Draws or updates one chart; rebuilt when its set of series changes. */
function drawChart(id, time, series, unit) {
  const container = document.getElementById(id);
  const key = series.map((one) => one.label).join(',');
  const data = [time, ...series.map((one) => one.values)];
  const existing = charts.get(id);
  if (existing !== undefined && existing.key === key) {
    existing.plot.setData(data);
    return;
  }
  if (existing !== undefined) existing.plot.destroy();
  const options = {
    width: chartWidth(container),
    height: 220,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{}, { label: unit, size: 60 }],
    series: [
      {},
      ...series.map((one) => ({
        label: one.label,
        stroke: one.color,
        width: 2,
        spanGaps: false,
        value: (_u, value) => formatNumber(value, 2),
      })),
    ],
  };
  const plot = new uPlot(options, data, container);
  charts.set(id, { key, plot });
}

function lastValue(values) {
  for (let index = values.length - 1; index >= 0; index--) {
    if (values[index] !== null) return values[index];
  }
  return null;
}

function drawStates(data, family) {
  const byState = data.history.states[family];
  const shown = stateNames.filter((state) =>
    byState[state].some((value) => value !== null && value > 0),
  );
  const series = shown.map((state) => ({
    label: stateLabel(state),
    color: STATE_COLORS[state],
    values: byState[state],
  }));
  drawChart(`chart-${family}`, data.history.time, series, 'sockets');
  const caption = document.getElementById(`caption-${family}`);
  const now = shown.map(
    (state) => `${stateLabel(state)} ${formatNumber(lastValue(byState[state]))}`,
  );
  caption.textContent = `${family === 'ipv4' ? 'IPv4' : 'IPv6'} now: ${now.length === 0 ? 'no sockets' : now.join(', ')}`;
}

function drawTimeWait(data) {
  const created = data.history.timeWaitCreatedPerSecond;
  const reused = data.history.timeWaitReusedPerSecond;
  drawChart(
    'chart-timewait',
    data.history.time,
    [
      { label: 'created/s (TcpExt TW)', color: STATE_COLORS.time_wait, values: created },
      { label: 'reused/s (TcpExt TWRecycled)', color: STATE_COLORS.established, values: reused },
    ],
    'per second',
  );
  document.getElementById('caption-timewait').textContent =
    `now: created ${formatNumber(lastValue(created), 2)}/s, reused ${formatNumber(lastValue(reused), 2)}/s`;
}

function headroomBar(ratio) {
  const td = document.createElement('td');
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('div');
  fill.className = ratio < 0.2 ? 'fill critical' : ratio < 0.5 ? 'fill warning' : 'fill';
  // CSSOM, not a style attribute: allowed under style-src 'self'.
  fill.style.width = `${Math.round(ratio * 100)}%`;
  bar.append(fill);
  const label = document.createElement('span');
  label.textContent = `${(ratio * 100).toFixed(1)}%`;
  td.append(bar, label);
  return td;
}

function drawDestinations(data) {
  const summary = document.getElementById('ephemeral-summary');
  const body = document.querySelector('#destinations tbody');
  body.replaceChildren();
  const ephemeral = data.ephemeral;
  if (ephemeral === null) {
    summary.textContent = 'Ephemeral-port figures are not available in the latest sample.';
    return;
  }
  summary.textContent =
    `ip_local_port_range ${ephemeral.rangeLow}-${ephemeral.rangeHigh}: ${formatNumber(ephemeral.usable)} usable per destination; ` +
    `${formatNumber(ephemeral.destinationCount)} destinations hold ports; worst headroom ${(ephemeral.headroomRatio * 100).toFixed(1)}%.`;
  const sorted = [...ephemeral.destinations].sort((a, b) => a.headroomRatio - b.headroomRatio);
  for (const destination of sorted) {
    body.append(
      row([
        cell(destination.localAddress),
        cell(`${destination.remoteAddress}:${destination.remotePort}`),
        cell(`${formatNumber(destination.used)} of ${formatNumber(ephemeral.usable)}`, 'number'),
        headroomBar(destination.headroomRatio),
        cell(formatNumber(destination.timeWait), 'number'),
        cell(`${formatNumber(destination.holdSeconds, 3)} s`, 'number'),
        cell(`${formatNumber(destination.sustainedConnectsPerSecond, 1)}/s`, 'number'),
      ]),
    );
  }
  if (sorted.length === 0) {
    const empty = cell('No destination holds an ephemeral port.');
    empty.colSpan = 7;
    body.append(row([empty]));
  }
}

function total(states) {
  return Object.values(states).reduce((sum, count) => sum + count, 0);
}

function drawPorts(id, ports) {
  const table = document.getElementById(id);
  const head = table.querySelector('thead');
  const body = table.querySelector('tbody');
  head.replaceChildren(
    row(
      ['port', ...PORT_COLUMNS.map(stateLabel), 'other', 'total'].map((text) => {
        const th = document.createElement('th');
        th.textContent = text;
        return th;
      }),
    ),
  );
  body.replaceChildren();
  const sorted = [...ports]
    .sort((a, b) => total(b.states) - total(a.states))
    .slice(0, MAX_PORT_ROWS);
  for (const { port, states } of sorted) {
    const all = total(states);
    const listed = PORT_COLUMNS.reduce((sum, state) => sum + states[state], 0);
    body.append(
      row([
        cell(String(port)),
        ...PORT_COLUMNS.map((state) => cell(formatNumber(states[state]), 'number')),
        cell(formatNumber(all - listed), 'number'),
        cell(formatNumber(all), 'number'),
      ]),
    );
  }
  if (sorted.length === 0) {
    const empty = cell('none');
    empty.colSpan = PORT_COLUMNS.length + 3;
    body.append(row([empty]));
  }
}

function drawCollectors(data) {
  const body = document.querySelector('#collectors tbody');
  body.replaceChildren(
    ...data.collectors.map((view) =>
      row([cell(view.name), cell(view.text, view.state === 'failing' ? 'failing' : undefined)]),
    ),
  );
  document.getElementById('sample-line').textContent =
    data.sample === null
      ? 'No sample yet: waiting for the first one.'
      : `Last sample at ${data.sample.at}, took ${(data.sample.durationSeconds * 1000).toFixed(1)} ms.`;
}

function draw(data) {
  stateNames = Object.keys(data.history.states.ipv4);
  document.getElementById('live').hidden = false;
  document.getElementById('live-status').textContent =
    `${data.history.time.length} of ${data.historyCapacity} samples kept, one every ${data.intervalSeconds} s; updated ${new Date().toLocaleTimeString()}.`;
  document.getElementById('live-status').classList.remove('failing');
  drawStates(data, 'ipv4');
  drawStates(data, 'ipv6');
  drawTimeWait(data);
  drawDestinations(data);
  drawPorts('listen-ports', data.listenPorts);
  drawPorts('remote-ports', data.remotePorts);
  drawCollectors(data);
  document.body.dataset.samples = String(data.history.time.length);
}

/** Why a response cannot be drawn: its status, and the start of its body (the server's reason). */
async function responseProblem(response) {
  const body = (await response.text()).trim().slice(0, 200);
  const reason = `HTTP ${response.status} ${response.statusText}`.trim();
  return body === '' ? reason : `${reason}: ${body}`;
}

/** Shown above the charts, which keep the last data drawn (none before the first load). */
function showProblem(problem) {
  const status = document.getElementById('live-status');
  status.textContent = `Cannot load ${PAGE_DATA_URL.pathname}: ${problem}; retrying every 5 s.`;
  status.classList.add('failing');
  document.body.dataset.problem = problem;
}

async function poll() {
  let delayMs = 5000;
  try {
    const response = await fetch(PAGE_DATA_URL, { cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) {
      showProblem(await responseProblem(response));
    } else {
      const data = await response.json();
      draw(data);
      delete document.body.dataset.problem;
      delayMs = Math.max(MIN_POLL_MS, data.intervalSeconds * 1000);
    }
  } catch (error) {
    showProblem(error.message);
  }
  setTimeout(poll, delayMs);
}

window.addEventListener('resize', () => {
  for (const [id, { plot }] of charts) {
    plot.setSize({ width: chartWidth(document.getElementById(id)), height: 220 });
  }
});

poll();
