/** The CLI as operators run it: spawned processes, their output and exit status. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flagSynopsis } from '../src/cli/help.js';
import { EXPORTER_FLAGS } from '../src/config/flags.js';
import { parseLogLines, REPO_ROOT, runExporter } from '../testkit/exporter/exporter-cli.js';
import { MINIMAL_PROCFS, scratchProcfs } from '../testkit/exporter/exporter-procfs.js';
import { canRun } from '../testkit/kernel/capabilities.js';
import { samplesOf } from '../testkit/prometheus/exposition.js';
import { promtoolCheckMetrics } from '../testkit/prometheus/promtool.js';

const GOLDEN = join(REPO_ROOT, 'test/golden/once.prom');
const VOLATILE_FAMILIES = /^(process_|nodejs_)/;
const VOLATILE_VALUES =
  /^(tcpstate_collector_duration_seconds|tcpstate_sample_duration_seconds_|tcpstate_last_sample_timestamp_seconds)/;

/**
 * The exposition without what changes from run to run: the process and Node.js families,
 * durations, timestamps and the Node.js version.
 */
function normaliseExposition(body: string): string {
  return body
    .split('\n')
    .filter((line) => {
      const name = line.startsWith('# ') ? (line.split(' ')[2] ?? '') : line;
      return !VOLATILE_FAMILIES.test(name);
    })
    .map((line) => (VOLATILE_VALUES.test(line) ? line.replace(/ \S+$/, ' <volatile>') : line))
    .map((line) => line.replace(/node_version="[^"]*"/, 'node_version="<node>"'))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('tcpstate-exporter --help and --version', () => {
  it('prints every flag with usage and exits 0', async () => {
    const run = await runExporter(['--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^usage: tcpstate-exporter \[<flags>\]\n/);
    for (const spec of Object.values(EXPORTER_FLAGS))
      expect(run.stdout).toContain(flagSynopsis(spec));
    expect(run.stdout).toContain('--[no-]collector.ephemeral');
    expect(run.stdout).toContain('(default: :10120)');
  });

  it('prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const run = await runExporter(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`tcpstate-exporter ${version} (node ${process.version})\n`);
  });

  it('dispatches the doctor subcommand', async () => {
    const run = await runExporter(['doctor', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: tcpstate-exporter doctor/);
  });
});

describe('tcpstate-exporter with a bad command line', () => {
  const cases: readonly [args: string[], message: string][] = [
    [['--bogus'], 'unknown flag --bogus'],
    [
      ['--sample.interval', 'abc'],
      '--sample.interval: expected a duration like 500ms, 5s or 1m, got "abc"',
    ],
    [
      ['--sample.interval=0s'],
      '--sample.interval: expected a duration like 500ms, 5s or 1m, greater than zero, got "0s"',
    ],
    [
      ['--sample.interval=1000h'],
      '--sample.interval: expected a duration like 500ms, 5s or 1m, at most 24h (a sample may run 6 intervals, within what timers hold), got "1000h"',
    ],
    [
      ['--collector.ports.max-listen=100000'],
      '--collector.ports.max-listen: expected a positive integer, at most 1000 (each port adds up to 11 series), got "100000"',
    ],
    [
      ['--collector.ephemeral.top-destinations=10001'],
      '--collector.ephemeral.top-destinations: expected a positive integer, at most 10000 (each destination adds a few series), got "10001"',
    ],
    [
      ['--collector.netns.max=1001'],
      '--collector.netns.max: expected a positive integer, at most 1000 (each namespace adds up to 72 + 3 x top-destinations series), got "1001"',
    ],
    [
      ['--collector.netns.top-destinations=101'],
      '--collector.netns.top-destinations: expected a positive integer, at most 100 (each destination adds 3 series per namespace), got "101"',
    ],
    [
      ['--collector.netns.interval=25h'],
      '--collector.netns.interval: expected a duration like 500ms, 5s or 1m, at most 24h (a round may run 6 intervals, within what timers hold), got "25h"',
    ],
    [
      ['--collector.ports.max-listen=-3'],
      '--collector.ports.max-listen: expected a positive integer, got "-3"',
    ],
    [
      ['--log.level=verbose'],
      '--log.level: expected one of debug, info, warn, error, got "verbose"',
    ],
    [
      ['--web.listen-address=10120'],
      '--web.listen-address: expected an address like :10120, 127.0.0.1:10120 or [::1]:10120, got "10120"',
    ],
    [['--web.telemetry-path=metrics'], '--web.telemetry-path: expected a path like /metrics'],
    [['--collector.sockets=yes'], '--collector.sockets: expected true or false, got "yes"'],
    [['--no-log.level'], 'unknown flag --no-log.level'],
    [['--path.procfs'], '--path.procfs: expected a value, got nothing'],
    [['--path.procfs='], '--path.procfs: expected a directory such as /proc, got ""'],
    [['--=x'], 'expected a flag name after --, got "--=x"'],
    [['serve'], 'unexpected argument "serve"'],
  ];

  // One test per mistake: each starts a Node.js process, and a loaded machine can take
  // seconds for one; a single test for all of them ran past its timeout.
  it.each(cases)('exits 2 naming the flag and the expected form: %j', async (args, message) => {
    const run = await runExporter(args);
    expect(run.code, args.join(' ')).toBe(2);
    expect(run.stdout).toBe('');
    const [first, second, ...rest] = run.stderr.split('\n');
    expect(first?.startsWith(`tcpstate-exporter: ${message}`), run.stderr).toBe(true);
    expect(second).toBe('Run `tcpstate-exporter --help` for the flags.');
    expect(rest).toEqual(['']);
  });

  it('exits 2 quoting only the start of a 10 KB value', async () => {
    const run = await runExporter([`--sample.interval=${'9'.repeat(10_240)}`]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(
      `tcpstate-exporter: --sample.interval: expected a duration like 500ms, 5s or 1m, got "${'9'.repeat(64)}"... (10240 characters)`,
    );
  });
});

describe('tcpstate-exporter --once', () => {
  it('prints the exposition of the fixture tree, matching the golden file', async () => {
    const run = await runExporter(['--once', `--path.procfs=${MINIMAL_PROCFS}`]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const normalised = normaliseExposition(run.stdout);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, normalised);
    expect(normalised).toBe(readFileSync(GOLDEN, 'utf8'));
    // The normalised families are there all the same.
    expect(samplesOf(run.stdout, 'process_cpu_seconds_total')).toHaveLength(1);
    expect(samplesOf(run.stdout, 'tcpstate_collector_duration_seconds')).toHaveLength(6);
  });

  it('exits 1 and says which collector failed, still printing the rest', async () => {
    const tree = scratchProcfs();
    cleanups.push(tree.remove);
    rmSync(join(tree.root, 'net/snmp'));
    const run = await runExporter(['--once', `--path.procfs=${tree.root}`]);
    expect(run.code).toBe(1);
    expect(samplesOf(run.stdout, 'tcpstate_sockets')).toHaveLength(22);
    expect(samplesOf(run.stdout, 'tcpstate_active_opens_total')).toEqual([]);
    expect(run.stdout).toContain('tcpstate_collector_success{collector="netstat"} 0');
    const logs = parseLogLines(run.stderr);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'collector failed', collector: 'netstat' }),
    ]);
    expect(String(logs[0]?.error)).toContain('net/snmp');
  });

  it('exits 0 with a disabled collector it did not read', async () => {
    const tree = scratchProcfs();
    cleanups.push(tree.remove);
    rmSync(join(tree.root, 'net/snmp'));
    const run = await runExporter([
      '--once',
      '--no-collector.netstat',
      `--path.procfs=${tree.root}`,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('tcpstate_active_opens_total');
    expect(run.stdout).not.toContain('collector="netstat"');
  });

  it('exits 1 with one line when the procfs root has no net/tcp', async () => {
    const run = await runExporter(['--once', `--path.procfs=${join(MINIMAL_PROCFS, 'sys')}`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `tcpstate-exporter: ${join(MINIMAL_PROCFS, 'sys/net/tcp')} does not exist: --path.procfs must point at a procfs mount such as /proc or /proc/<pid>\n`,
    );
  });
});

describe.skipIf(!canRun('promtool check of the --once exposition', { commands: ['promtool'] }))(
  'tcpstate-exporter --once under promtool',
  () => {
    it('prints an exposition promtool accepts without complaint', async () => {
      const run = await runExporter(['--once', `--path.procfs=${MINIMAL_PROCFS}`]);
      expect(run.code).toBe(0);
      expect(promtoolCheckMetrics(run.stdout)).toBe('');
    });
  },
);
