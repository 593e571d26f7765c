/** Renders a DoctorReport for a terminal: the verdict and the findings first, the tables after. */
import { type PortStateCounts, TCP_STATES, type TcpState } from '../snapshot/model.js';
import type { EvidenceValue, Finding, FixStep, Severity } from './finding.js';
import type { DoctorReport } from './report.js';
import { TEXT_TOP_ROWS } from './thresholds.js';

const WIDTH = 100;

/** Notes beside sysctls that are often misread. */
const SYSCTL_NOTES: Readonly<Record<string, string>> = {
  'net.ipv4.tcp_tw_reuse': '0 off, 1 all outgoing connections, 2 loopback only',
  'net.ipv4.tcp_tw_reuse_delay': 'ms a TIME_WAIT must age before tcp_tw_reuse may take it',
  'net.ipv4.tcp_max_tw_buckets': 'TIME_WAIT sockets kept at most, per network namespace',
  'net.ipv4.tcp_fin_timeout':
    's an orphaned FIN_WAIT2 socket lives; not TIME_WAIT, which is a fixed 60 s',
  'net.ipv4.tcp_timestamps': 'needed by PAWS and tcp_tw_reuse',
  'net.ipv4.tcp_tw_recycle': 'removed in Linux 4.12; on, it drops SYNs from clients behind NAT',
  'net.ipv4.tcp_ehash_entries':
    'established hash size; half of it is tcp_max_tw_buckets by default',
  'net.core.somaxconn': 'cap on every listen() backlog',
  'net.ipv4.tcp_max_orphans': 'host-wide; orphans beyond it are reset',
  'net.ipv4.tcp_mem.pressure': 'pages; above it TCP shrinks socket buffers',
  'net.ipv4.tcp_mem.max': 'pages; at it TCP refuses memory',
};

function stateName(state: TcpState): string {
  return state.toUpperCase();
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Word-wraps to WIDTH; continuation lines start with `hanging`. */
function wrap(text: string, indent: string, hanging = indent): string[] {
  const lines: string[] = [];
  let current = indent;
  for (const word of text.split(/\s+/)) {
    if (current.length + word.length + 1 > WIDTH && current.trim() !== '') {
      lines.push(current.trimEnd());
      current = hanging;
    }
    current += current.trim() === '' ? word : ` ${word}`;
  }
  if (current.trim() !== '') lines.push(current);
  return lines;
}

function stateTable(report: DoctorReport): string[] {
  const { ipv4, ipv6 } = report.states;
  const rows = TCP_STATES.filter((state) => ipv4[state] + ipv6[state] > 0)
    .sort((a, b) => ipv4[b] + ipv6[b] - (ipv4[a] + ipv6[a]))
    .map((state) => [
      stateName(state),
      String(ipv4[state]),
      String(ipv6[state]),
      String(ipv4[state] + ipv6[state]),
    ]);
  const sum = (counts: typeof ipv4) =>
    TCP_STATES.reduce((total, state) => total + counts[state], 0);
  rows.push(['all', String(sum(ipv4)), String(sum(ipv6)), String(sum(ipv4) + sum(ipv6))]);
  return [
    "TCP sockets by state (the tally of `netstat -ant | awk '/^tcp/ {++S[$NF]} END {for (a in S) print a, S[a]}'`)",
    ...table(['STATE', 'IPv4', 'IPv6', 'TOTAL'], rows),
  ];
}

function portTable(title: string, ports: readonly PortStateCounts[]): string[] {
  const total = (entry: PortStateCounts) =>
    TCP_STATES.reduce((sum, state) => sum + entry.states[state], 0);
  const shown = ports
    .filter((entry) => total(entry) > 0)
    .sort((a, b) => total(b) - total(a))
    .slice(0, TEXT_TOP_ROWS);
  if (shown.length === 0) return [`${title}: none`];
  const states = TCP_STATES.filter((state) => shown.some((entry) => entry.states[state] > 0));
  const rows = shown.map((entry) => [
    String(entry.port),
    ...states.map((state) => String(entry.states[state])),
  ]);
  return [`${title} (top ${shown.length})`, ...table(['PORT', ...states.map(stateName)], rows)];
}

function ephemeralSection(report: DoctorReport): string[] {
  const ephemeral = report.ephemeral;
  if (ephemeral === null) {
    const error = report.unavailable.find((entry) => entry.source === 'sysctl')?.error;
    return [`Ephemeral ports: unknown${error === undefined ? '' : ` (${error})`}`];
  }
  const holders = ephemeral.destinationCount;
  const { twReuse, twReuseDelayMs, timestamps } = ephemeral.reuse;
  const head = [
    `Ephemeral ports: ip_local_port_range ${ephemeral.rangeLow}-${ephemeral.rangeHigh}, ${ephemeral.usable} usable per destination; ${holders} destination${holders === 1 ? ' blocks' : 's block'} ports for connect()`,
    `  ${ephemeral.held} ports held by any socket (a client that binds before connect() has ${Math.max(0, ephemeral.usable - ephemeral.held)} left); TIME_WAIT reuse: tcp_tw_reuse=${twReuse}, delay ${twReuseDelayMs} ms, tcp_timestamps=${timestamps}`,
  ];
  if (ephemeral.destinations.length === 0) return head;
  const rows = ephemeral.destinations.slice(0, TEXT_TOP_ROWS).map((destination) => {
    const remote = destination.remoteAddress.includes(':')
      ? `[${destination.remoteAddress}]`
      : destination.remoteAddress;
    const share = ephemeral.usable === 0 ? 1 : destination.used / ephemeral.usable;
    return [
      `${destination.localAddress} -> ${remote}:${destination.remotePort}`,
      String(destination.used),
      `${(share * 100).toFixed(1)}%`,
      String(destination.timeWait),
      `${destination.holdSeconds} s`,
    ];
  });
  return [
    ...head,
    ...table(['DESTINATION', 'BLOCKED', 'OF USABLE', 'TIME_WAIT', 'PORT HELD FOR'], rows),
  ];
}

function countersSection(report: DoctorReport): string[] {
  if (report.counters.length === 0) return ['Kernel counters: unavailable'];
  const title =
    report.windowSeconds > 0
      ? `Kernel counters (rise over ${report.windowSeconds} s, total since boot)`
      : 'Kernel counters (total since boot; --window 0 measures no rise)';
  const rows = report.counters.map((counter) => [
    counter.name,
    counter.delta === undefined ? '-' : `+${counter.delta}`,
    counter.perSecond === undefined ? '-' : `${counter.perSecond}/s`,
    String(counter.total),
  ]);
  return [title, ...table(['COUNTER', 'RISE', 'RATE', 'TOTAL'], rows)];
}

function sysctlSection(report: DoctorReport): string[] {
  const sysctl = report.sysctl;
  if (sysctl === null) return ['Sysctls: unavailable'];
  const rows: string[][] = [];
  if (sysctl.portRange !== undefined)
    rows.push([
      'net.ipv4.ip_local_port_range',
      `${sysctl.portRange.low} ${sysctl.portRange.high}`,
      '',
    ]);
  if (sysctl.reservedPorts !== undefined)
    rows.push([
      'net.ipv4.ip_local_reserved_ports',
      sysctl.reservedPorts
        .map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`))
        .join(',') || '(none)',
      '',
    ]);
  for (const [name, value] of Object.entries(sysctl.values)) {
    // The range's .low/.high entries are shown above as one line.
    if (name.startsWith('net.ipv4.ip_local_port_range.')) continue;
    rows.push([name, String(value), SYSCTL_NOTES[name] ?? '']);
  }
  return [
    'Sysctls',
    ...rows.map(([name = '', value = '', note = '']) =>
      `  ${name.padEnd(34)} ${value.padStart(11)}${note === '' ? '' : `  ${note}`}`.trimEnd(),
    ),
  ];
}

function evidenceText(value: EvidenceValue): string {
  if (!Array.isArray(value)) return String(value);
  return `[${value
    .map((item: unknown) =>
      typeof item === 'object' && item !== null
        ? Object.entries(item)
            .map(([key, inner]) => `${key}=${String(inner)}`)
            .join(' ')
        : String(item),
    )
    .join('; ')}]`;
}

function stepLines(steps: readonly FixStep[]): string[] {
  const lines: string[] = [];
  steps.forEach((step, index) => {
    lines.push(...wrap(`${index + 1}. ${step.step}`, '    ', '       '));
    for (const line of step.lines ?? []) lines.push(`         ${line}`);
  });
  return lines;
}

function findingLines(finding: Finding): string[] {
  const lines = [`[${finding.severity.toUpperCase()}] ${finding.id}: ${finding.summary}`];
  const evidence = Object.entries(finding.evidence)
    .map(([key, value]) => `${key}=${evidenceText(value)}`)
    .join(', ');
  lines.push(...wrap(`evidence: ${evidence}`, '  ', '    '));
  lines.push(...wrap(`why: ${finding.explanation}`, '  ', '    '));
  if (finding.stopTheBleeding.length > 0)
    lines.push('  stop the bleeding (relief now):', ...stepLines(finding.stopTheBleeding));
  lines.push('  fix:', ...stepLines(finding.fix));
  return lines;
}

function findingsSection(report: DoctorReport): string[] {
  const bySeverity = (severity: Severity) =>
    report.findings.filter((finding) => finding.severity === severity).length;
  const lines: string[] = [];
  if (report.findings.length === 0) lines.push('Findings: none');
  else {
    const counts = (['critical', 'warning', 'info'] as const)
      .map((severity) => `${bySeverity(severity)} ${severity}`)
      .join(', ');
    lines.push(`Findings, most severe first: ${counts}`);
    for (const finding of report.findings) lines.push('', ...findingLines(finding));
  }
  if (report.skippedChecks.length > 0) {
    lines.push('', 'Not checked:');
    for (const skipped of report.skippedChecks) lines.push(`  ${skipped.id}: ${skipped.reason}`);
  }
  return lines;
}

export function verdictLine(report: DoctorReport): string {
  return `${report.verdict.severity.toUpperCase()}: ${report.verdict.summary}`;
}

export function formatText(report: DoctorReport): string {
  const window =
    report.windowSeconds > 0 ? `counters over ${report.windowSeconds} s` : 'one sample';
  const sections = [
    [verdictLine(report)],
    findingsSection(report),
    [`Details: ${report.procfsRoot} at ${report.sampledAt}, ${window}`],
    stateTable(report),
    portTable('Inbound sockets by listening port', report.listenPorts),
    portTable('Outbound sockets by remote port', report.remotePorts),
    ephemeralSection(report),
    countersSection(report),
    sysctlSection(report),
    report.unavailable.map((entry) => `Unavailable: ${entry.source}: ${entry.error}`),
  ];
  return `${sections
    .filter((section) => section.length > 0)
    .map((section) => section.join('\n'))
    .join('\n\n')}\n`;
}
