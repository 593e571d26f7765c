/**
 * Captures a procfs fixture tree from a real kernel: builds a socket scenario in network
 * namespaces (testkit/kernel/socket-scenario.ts), then from inside the scenario's main
 * namespace copies the files the engine reads into <outdir>/proc/... and `ss -tanH` into
 * <outdir>/ss.txt right after, and writes <outdir>/README.md saying how it was made.
 *
 *   npx tsx scripts/capture-fixture.ts <outdir> [--scenario all-states|client-timewait]
 *   npx tsx scripts/capture-fixture.ts <outdir> --from <tree> --drop-ipv6
 *
 * The second form derives an "IPv6 disabled" tree (no net/tcp6, no net/sockstat6) from a
 * captured one: a namespace always has net/tcp6, so that shape cannot be captured.
 * Needs root and iproute2.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { emptyStateCounts, FAMILIES, type Family, TCP_STATES } from '../src/snapshot/model.js';
import { SCENARIOS, type ScenarioHandle } from '../testkit/kernel/socket-scenario.js';
import {
  ephemeralUse,
  familyStateCounts,
  listeningPorts,
  parsePortRange,
  parseReservedPorts,
  parseSs,
  procTableStateCounts,
} from '../testkit/kernel/ss-oracle.js';

/** Relative to /proc. The socket tables come last so that ss runs right after them. */
const PROC_FILES = [
  'sys/net/ipv4/ip_local_port_range',
  'sys/net/ipv4/ip_local_reserved_ports',
  'sys/net/ipv4/tcp_tw_reuse',
  'sys/net/ipv4/tcp_tw_reuse_delay',
  'sys/net/ipv4/tcp_max_tw_buckets',
  'sys/net/ipv4/tcp_fin_timeout',
  'sys/net/ipv4/tcp_timestamps',
  'sys/net/ipv4/tcp_syncookies',
  'sys/net/ipv4/tcp_max_syn_backlog',
  'sys/net/core/somaxconn',
  'net/sockstat',
  'net/sockstat6',
  'net/netstat',
  'net/snmp',
  'net/tcp',
  'net/tcp6',
];

const IPV6_ONLY_FILES = ['net/tcp6', 'net/sockstat6'];

const ATTEMPTS = 3;

// Copies inside the namespace (its own /proc/net and /proc/sys/net), then ss at once.
const COPY_SCRIPT = `out=$1; shift
for f in "$@"; do
  mkdir -p "$out/proc/$(dirname "$f")"
  if [ -e "/proc/$f" ]; then cat "/proc/$f" > "$out/proc/$f"; fi
done
ss -tanH > "$out/ss.txt"`;

function usage(message: string): never {
  console.error(`${message}
usage: npx tsx scripts/capture-fixture.ts <outdir> [--scenario ${Object.keys(SCENARIOS).join('|')}]
       npx tsx scripts/capture-fixture.ts <outdir> --from <tree> --drop-ipv6`);
  process.exit(2);
}

function readTree(tree: string, relative: string): string | undefined {
  const path = join(tree, 'proc', relative);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Differences between the ss.txt counts and the tables' counts; empty when they agree. */
function treeDisagreements(tree: string): string[] {
  const fromSs = familyStateCounts(parseSs(readFileSync(join(tree, 'ss.txt'), 'utf8')));
  const problems: string[] = [];
  const files: Record<Family, string> = { ipv4: 'net/tcp', ipv6: 'net/tcp6' };
  for (const family of FAMILIES) {
    const table = readTree(tree, files[family]);
    const fromTable = table === undefined ? emptyStateCounts() : procTableStateCounts(table);
    for (const state of TCP_STATES) {
      if (fromSs[family][state] !== fromTable[state]) {
        problems.push(`${family} ${state}: ss ${fromSs[family][state]}, table ${fromTable[state]}`);
      }
    }
  }
  return problems;
}

function countsTable(tree: string): string {
  const counts = familyStateCounts(parseSs(readFileSync(join(tree, 'ss.txt'), 'utf8')));
  const rows = TCP_STATES.map(
    (state) => `| ${state} | ${counts.ipv4[state]} | ${counts.ipv6[state]} |`,
  );
  const total = (family: Family) => TCP_STATES.reduce((sum, s) => sum + counts[family][s], 0);
  return [
    '| state | ipv4 (net/tcp) | ipv6 (net/tcp6) |',
    '|---|---|---|',
    ...rows,
    `| **total** | ${total('ipv4')} | ${total('ipv6')} |`,
  ].join('\n');
}

/** What the ss oracle says about ports, so golden-file authors can check by hand. */
function portSummary(tree: string): string {
  const sockets = parseSs(readFileSync(join(tree, 'ss.txt'), 'utf8'));
  const range = parsePortRange(readTree(tree, 'sys/net/ipv4/ip_local_port_range') ?? '');
  const reservedText = readTree(tree, 'sys/net/ipv4/ip_local_reserved_ports') ?? '';
  const use = ephemeralUse(sockets, range, parseReservedPorts(reservedText));
  const worst = use.destinations[0];
  return [
    `- listening ports: ${listeningPorts(sockets).join(', ')}`,
    `- ip_local_port_range: ${range.low}-${range.high}; ip_local_reserved_ports: ${reservedText.trim() || '(empty)'}`,
    `- usable ephemeral ports (range minus reserved minus listening): ${use.usable}`,
    worst === undefined
      ? '- no destination holds an ephemeral port'
      : `- worst destination: ${worst.localAddress} → ${worst.remoteAddress}:${worst.remotePort} holds ${worst.used} ports (${use.destinations.length} destinations in all)`,
  ].join('\n');
}

function command(name: string, args: readonly string[]): string {
  return execFileSync(name, args, { encoding: 'utf8' }).trim();
}

/** Copies from inside the namespace into a fresh directory and checks ss against the tables. */
function captureOnce(scenario: ScenarioHandle, into: string): string[] {
  scenario.lab.exec(scenario.mainNs, 'sh', ['-c', COPY_SCRIPT, 'sh', into, ...PROC_FILES]);
  return treeDisagreements(into);
}

function writeCapturedReadme(
  tree: string,
  scenario: ScenarioHandle,
  argv: readonly string[],
): void {
  writeFileSync(
    join(tree, 'README.md'),
    `# Fixture: ${scenario.name}

Captured from a real kernel by \`npx tsx scripts/capture-fixture.ts ${argv.join(' ')}\`
(run as root) on ${new Date().toISOString().slice(0, 10)}.

- kernel: \`${command('uname', ['-srm'])}\`
- ss: \`${command('ss', ['-V'])}\`

${scenario.description}

\`proc/\` holds the main namespace's own view (copied with \`ip netns exec <ns> cat\`) of
the files the engine reads, same layout as \`/proc\`. \`ss.txt\` is \`ss -tanH\` in the same
namespace taken right after the copy; the capture was repeated until the per-family,
per-state counts of \`ss.txt\` and of \`proc/net/tcp{,6}\` agreed exactly.
\`net/sockstat\` \`orphan\`, \`alloc\` and \`mem\` are global values of the capturing host.

## Sockets (from ss.txt)

${countsTable(tree)}

${portSummary(tree)}
`,
  );
}

/** Refuses to overwrite anything but an earlier capture (or an empty directory). */
function assertReplaceable(outdir: string): void {
  if (existsSync(outdir) && readdirSync(outdir).length > 0 && !existsSync(join(outdir, 'ss.txt'))) {
    usage(`${outdir} exists and is not a fixture tree; refusing to replace it`);
  }
}

/** Writes the tree into a sibling temp directory, then swaps it in: no half-written trees. */
function replaceTree(outdir: string, fill: (tree: string) => void): void {
  const temporary = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}-`));
  try {
    fill(temporary);
    rmSync(outdir, { recursive: true, force: true });
    renameSync(temporary, outdir);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

async function buildScenario(name: string): Promise<ScenarioHandle> {
  const build = SCENARIOS[name];
  if (!build) usage(`unknown scenario ${name}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await build();
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      console.warn(`scenario ${name} attempt ${attempt} failed, retrying: ${String(error)}`);
    }
  }
}

async function capture(
  outdir: string,
  scenarioName: string,
  argv: readonly string[],
): Promise<void> {
  const scenario = await buildScenario(scenarioName);
  try {
    replaceTree(outdir, (tree) => {
      for (let attempt = 1; ; attempt++) {
        const problems = captureOnce(scenario, tree);
        if (problems.length === 0) break;
        if (attempt >= ATTEMPTS)
          throw new Error(`ss.txt and tables disagree: ${problems.join('; ')}`);
        console.warn(`ss.txt and tables disagree (${problems.join('; ')}), capturing again`);
      }
      writeCapturedReadme(tree, scenario, argv);
    });
  } finally {
    await scenario.close();
  }
}

function deriveWithoutIpv6(outdir: string, from: string, argv: readonly string[]): void {
  if (!existsSync(join(from, 'ss.txt'))) usage(`${from} is not a captured fixture tree`);
  replaceTree(outdir, (tree) => {
    cpSync(join(from, 'proc'), join(tree, 'proc'), { recursive: true });
    for (const file of IPV6_ONLY_FILES) rmSync(join(tree, 'proc', file), { force: true });
    // Keep only the tcp (IPv4) table's sockets, so ss.txt still describes this tree.
    const ipv4Lines = readFileSync(join(from, 'ss.txt'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && parseSs(line)[0]?.family === 'ipv4');
    writeFileSync(join(tree, 'ss.txt'), `${ipv4Lines.join('\n')}\n`);
    const problems = treeDisagreements(tree);
    if (problems.length > 0) throw new Error(`derived tree inconsistent: ${problems.join('; ')}`);
    writeFileSync(
      join(tree, 'README.md'),
      `# Fixture: ipv6-disabled

Derived, not captured: a network namespace always has \`/proc/net/tcp6\`, so a kernel with
IPv6 disabled cannot be imitated by capture. Made by
\`npx tsx scripts/capture-fixture.ts ${argv.join(' ')}\`: a copy of
\`${from}\` without ${IPV6_ONLY_FILES.map((f) => `\`proc/${f}\``).join(' and ')}, and with
\`ss.txt\` reduced to its IPv4 (net/tcp) lines. Everything else (including the TcpExt and
Tcp counters, which cover both families) is unchanged from that capture.

## Sockets (from ss.txt)

${countsTable(tree)}

${portSummary(tree)}
`,
    );
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenario: { type: 'string', default: 'all-states' },
      from: { type: 'string' },
      'drop-ipv6': { type: 'boolean', default: false },
    },
  });
  const [outArgument] = positionals;
  if (outArgument === undefined || positionals.length > 1) usage('need exactly one <outdir>');
  const outdir = resolve(outArgument);
  assertReplaceable(outdir);
  if (values.from !== undefined || values['drop-ipv6']) {
    if (values.from === undefined || !values['drop-ipv6'])
      usage('--from and --drop-ipv6 go together');
    deriveWithoutIpv6(outdir, values.from, argv);
  } else {
    // A signal must still run the lab's exit-time teardown.
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => process.exit(130));
    await capture(outdir, values.scenario, argv);
  }
  console.log(`wrote ${outdir}`);
}

await main();
