import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/config/exit-codes.js';
import type { DoctorReport } from '../../src/doctor/report.js';
import {
  allProcfsFixtureRoots,
  caseReport,
  doctorSchemaErrors,
  runDoctorCaptured,
  runDoctorJson,
} from '../../testkit/doctor/doctor-cli.js';
import {
  COUNTER_CASES,
  caseDirs,
  DOCTOR_FIXTURES_DIR,
  doctorCase,
} from '../../testkit/doctor/doctor-fixtures.js';
import { writeProcfsTree } from '../../testkit/kernel/procfs-tree.js';

function expectValid(report: unknown): asserts report is DoctorReport {
  expect(doctorSchemaErrors(report)).toEqual([]);
}

function fixture(name: string): string {
  return caseDirs(DOCTOR_FIXTURES_DIR, doctorCase(name)).proc;
}

const scratch = mkdtempSync(join(tmpdir(), 'tsd-command-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('doctor --format json', () => {
  it.each(allProcfsFixtureRoots())('matches the schema for %s', async (root) => {
    const run = await runDoctorJson(root);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    const report: unknown = JSON.parse(run.stdout);
    expectValid(report);
    expect(report.procfsRoot).toBe(root);
    expect(Number.isNaN(Date.parse(report.sampledAt))).toBe(false);
  });

  it.each(COUNTER_CASES)(
    'matches the schema with counter findings ($name over the window)',
    (testCase) => {
      const parsed: unknown = JSON.parse(JSON.stringify(caseReport(testCase)));
      expectValid(parsed);
      expect(parsed.counters.every((counter) => counter.delta !== undefined)).toBe(true);
    },
  );

  it('rejects a report whose finding lacks a fix (the schema has teeth)', async () => {
    const run = await runDoctorJson(fixture('timestamps-off.trigger'));
    const report = JSON.parse(run.stdout) as { findings: { fix?: unknown }[] };
    expect(report.findings.length).toBeGreaterThan(0);
    delete report.findings[0]?.fix;
    expect(doctorSchemaErrors(report)).not.toEqual([]);
  });

  it('rejects a report without its verdict or a finding without stop-the-bleeding steps', async () => {
    const run = await runDoctorJson(fixture('ephemeral-headroom-low.trigger'));
    const report = JSON.parse(run.stdout) as {
      verdict?: { severity: string };
      findings: { stopTheBleeding?: unknown }[];
    };
    expect(report.verdict?.severity).toBe('critical');
    expect(doctorSchemaErrors(report)).toEqual([]);
    const unsure = structuredClone(report);
    if (unsure.verdict !== undefined) unsure.verdict.severity = 'fine';
    expect(doctorSchemaErrors(unsure)).not.toEqual([]);
    delete report.verdict;
    expect(doctorSchemaErrors(report)).not.toEqual([]);
    const withoutRelief = JSON.parse(run.stdout) as typeof report;
    delete withoutRelief.findings[0]?.stopTheBleeding;
    expect(doctorSchemaErrors(withoutRelief)).not.toEqual([]);
  });

  it('takes two samples a window apart and reports counter rises', async () => {
    const run = await runDoctorJson(fixture('healthy'), '200ms');
    expect(run.code).toBe(EXIT.ok);
    const report: unknown = JSON.parse(run.stdout);
    expectValid(report);
    expect(report.windowSeconds).toBe(0.2);
    // A tree's pids are not the kernel's: failures are traced on the live /proc only.
    expect(report.skippedChecks.map((check) => check.id)).toEqual(['connect-failures-counted']);
    expect(report.skippedChecks[0]?.reason).toMatch(/live \/proc/);
    // A static tree: every counter is there and none rose.
    expect(report.counters.length).toBeGreaterThan(0);
    expect(report.counters.every((counter) => counter.delta === 0)).toBe(true);
  });
});

describe('doctor text output', () => {
  it('starts with the verdict and the findings, the tables after', async () => {
    const root = fixture('ephemeral-headroom-low.trigger');
    const text = (await runDoctorCaptured(['--path.procfs', root, '--window', '0'])).stdout;
    const json = JSON.parse((await runDoctorJson(root)).stdout) as DoctorReport;
    const [first] = text.split('\n');
    expect(first).toBe(`CRITICAL: ${json.verdict.summary}`);
    expect(json.verdict.summary).toContain(json.findings[0]?.summary);
    const order = [
      'Findings, most severe first',
      '[CRITICAL] ephemeral-headroom-low',
      'stop the bleeding',
      'fix:',
      'TCP sockets by state',
      'Inbound sockets by listening port',
      'Outbound sockets by remote port',
      'Ephemeral ports:',
      'Kernel counters',
      'Sysctls',
    ].map((heading) => text.indexOf(heading));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(text).toMatch(/198\.18\.0\.2 -> 198\.18\.0\.1:8080\s+80\s+80\.0%/);
  });

  it('says OK on the first line when there is nothing to fix', async () => {
    const text = (await runDoctorCaptured(['--path.procfs', fixture('healthy'), '--window', '0']))
      .stdout;
    expect(text.split('\n')[0]).toBe('OK: nothing to fix in this network namespace');
  });

  it('prints the same state counts as the JSON report', async () => {
    const root = fixture('healthy');
    const text = (await runDoctorCaptured(['--path.procfs', root, '--window', '0'])).stdout;
    const json = JSON.parse((await runDoctorJson(root)).stdout) as DoctorReport;
    for (const [state, ipv4] of Object.entries(json.states.ipv4)) {
      const ipv6 = json.states.ipv6[state as keyof typeof json.states.ipv6];
      const row = new RegExp(
        `^  ${state.toUpperCase()}\\s+${ipv4}\\s+${ipv6}\\s+${ipv4 + ipv6}$`,
        'm',
      );
      if (ipv4 + ipv6 > 0) expect(text).toMatch(row);
      else expect(text).not.toMatch(new RegExp(`^  ${state.toUpperCase()}\\s`, 'm'));
    }
  });

  it('says which checks it skipped and why', async () => {
    const text = (await runDoctorCaptured(['--path.procfs', fixture('healthy'), '--window', '0']))
      .stdout;
    expect(text).toContain('Findings: none');
    expect(text).toContain('listen-overflows: needs a window of more than 0 s');
  });
});

describe('doctor exit status', () => {
  it('is 0 after --help, which lists the flags and the exit statuses', async () => {
    const run = await runDoctorCaptured(['--help']);
    expect(run.code).toBe(EXIT.ok);
    for (const flag of [
      '--path.procfs=DIR',
      '--window=DURATION',
      '--format=text|json',
      '--fail-on',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toContain('Exit status');
  });

  it.each([
    [['--window', 'soon'], '--window'],
    [['--window', '10m'], '--window'],
    [['--window', '-1s'], '--window'],
    [['--format', 'xml'], '--format'],
    [['--fail-on', 'info'], '--fail-on'],
    [['--no-such-flag'], '--no-such-flag'],
    [['extra'], 'extra'],
  ])('is 2 for %j, naming %s', async (argv, named) => {
    const run = await runDoctorCaptured(argv);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(named);
  });

  it('is 1 when the socket tables cannot be read', async () => {
    const empty = join(scratch, 'empty');
    const run = await runDoctorCaptured(['--path.procfs', empty, '--window', '0']);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(join(empty, 'net/tcp'));
  });

  it('is 1 without net/tcp even when everything else is there, and does not wait the window', async () => {
    const root = join(scratch, 'no-tcp');
    writeProcfsTree(root, { omit: ['net/tcp'] });
    const run = await runDoctorCaptured(['--path.procfs', root, '--window', '5m']);
    expect(run.code).toBe(EXIT.failed);
  });

  it('is 0 when only other sources are missing, and names them', async () => {
    const root = join(scratch, 'no-counters');
    writeProcfsTree(root, { omit: ['net/netstat', 'net/snmp'] });
    const run = await runDoctorCaptured(['--path.procfs', root, '--window', '0']);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain('Unavailable: netstat');
  });

  it.each([
    ['healthy', 'warning', EXIT.ok],
    ['timestamps-off.trigger', 'critical', EXIT.ok],
    ['timestamps-off.trigger', 'warning', EXIT.findings],
    ['ephemeral-headroom-low.trigger', 'critical', EXIT.findings],
    ['ephemeral-headroom-low.trigger', 'never', EXIT.ok],
  ])('with %s and --fail-on %s is %i', async (name, failOn, code) => {
    const run = await runDoctorCaptured([
      '--path.procfs',
      fixture(name),
      '--window',
      '0',
      '--fail-on',
      failOn,
    ]);
    expect(run.code).toBe(code);
    expect(run.stdout).toContain('TCP sockets by state');
  });
});
