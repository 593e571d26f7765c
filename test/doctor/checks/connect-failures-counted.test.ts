import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONNECT_ERRORS_STREAM } from '../../../src/collectors/connect-errors.js';
import { analyse } from '../../../src/doctor/analyse.js';
import { connectFailuresCounted } from '../../../src/doctor/checks/connect-failures-counted.js';
import type { DoctorReport } from '../../../src/doctor/report.js';
import { analyseCase, only, sampleTree } from '../../../testkit/doctor/check-runs.js';
import { REPO_ROOT } from '../../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../../testkit/kernel/capabilities.js';
import { runFailingCalls } from '../../../testkit/kernel/failing-calls.js';
import { asUser, NOBODY } from '../../../testkit/kernel/namespace-process.js';
import { NetnsLab } from '../../../testkit/kernel/netns.js';
import { waitFor } from '../../../testkit/prometheus/prometheus-daemon.js';

const checks = [connectFailuresCounted];

describe('connect-failures-counted', () => {
  it('is critical for failed connect() calls, with the count and the window', () => {
    const { findings } = analyseCase('connect-failures-counted.trigger', 2, checks);
    const finding = only(findings, 'connect-failures-counted');
    expect(finding.severity).toBe('critical');
    expect(finding.evidence).toMatchObject({ syscall: 'connect', failures: 5, window_seconds: 2 });
  });

  it('says why it did not count: no window, or no tracer', () => {
    const snapshot = sampleTree({});
    expect(analyse(snapshot, snapshot, 0, checks).skipped[0]?.reason).toMatch(/--window/);
    const counts = { series: [], lostEvents: 0, pollSeconds: 0, error: 'no tracefs' };
    const failed = {
      ...snapshot,
      scheduled: { [CONNECT_ERRORS_STREAM.name]: { atMs: snapshot.timestampMs, result: counts } },
    };
    expect(analyse(snapshot, failed, 2, checks).skipped).toEqual([
      { id: 'connect-failures-counted', reason: 'failures not counted: no tracefs' },
    ]);
  });
});

/** `doctor --window W --format json` in `ns`, as root or as nobody. */
function spawnDoctor(lab: NetnsLab, ns: string, window: string, user?: number): ChildProcess {
  const argv = [
    '--import',
    'tsx',
    join(REPO_ROOT, 'src/main.ts'),
    'doctor',
    '--window',
    window,
    '--format',
    'json',
  ];
  const [command, args] =
    user === undefined ? [process.execPath, argv] : asUser(user, process.execPath, argv);
  return lab.spawn(ns, command, args);
}

async function reportOf(child: ChildProcess): Promise<DoctorReport> {
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  await once(child, 'exit');
  return JSON.parse(stdout) as DoctorReport;
}

describe.skipIf(!canRun('doctor counting failures', { root: true, netns: true }))(
  'doctor counts the failures of its own namespace during its window',
  () => {
    const lab = new NetnsLab('dcf');
    afterAll(() => lab.close());

    it('equal to what the client in its namespace saw, not those of another namespace', async () => {
      const ns = lab.addNamespace('doctor');
      const doctor = spawnDoctor(lab, ns, '6s');
      const report = reportOf(doctor);
      // Its instance is named after its pid (ip netns exec execs node in place).
      await waitFor(
        () =>
          readdirSync('/sys/kernel/tracing/instances').some((name) =>
            name.endsWith(`-${doctor.pid}-1`),
          )
            ? true
            : undefined,
        { timeoutMs: 15_000, intervalMs: 50, describe: () => 'doctor made no tracefs instance' },
      );
      const own = await runFailingCalls(lab, ns, { connects: 3, binds: 0 });
      const other = await runFailingCalls(lab, lab.addNamespace('other'), {
        connects: 2,
        binds: 0,
      });
      await Promise.all([own.end(), other.end()]);
      const { findings } = await report;
      const finding = findings.find((one) => one.id === 'connect-failures-counted');
      expect(own.outcomes.connect.EADDRNOTAVAIL).toBeGreaterThan(0);
      expect(finding?.evidence.failures).toBe(own.outcomes.connect.EADDRNOTAVAIL);
      expect(finding?.severity).toBe('critical');
    }, 60_000);

    it('as nobody, says it may not trace, and reports the rest', async () => {
      const report = await reportOf(spawnDoctor(lab, lab.addNamespace('nobody'), '1s', NOBODY));
      const skipped = report.skippedChecks.find((one) => one.id === 'connect-failures-counted');
      expect(skipped?.reason).toMatch(/failures not counted: .*(CAP_SYS_ADMIN|EACCES)/s);
      expect(report.verdict).toBeDefined();
    }, 60_000);
  },
);
