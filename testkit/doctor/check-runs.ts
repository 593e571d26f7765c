/**
 * For the per-check tests under test/doctor/checks/: run doctor's checks (all, or the one
 * under test) on a fixture case or an ad-hoc procfs tree, and read a finding's parts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { doctorSampleOptions } from '../../src/config/defaults.js';
import { type Analysis, analyse, CHECKS } from '../../src/doctor/analyse.js';
import type { Check } from '../../src/doctor/check-context.js';
import type { Finding, FindingId } from '../../src/doctor/finding.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import { sampleProcfs } from '../exporter/exporter-snapshots.js';
import { type ProcfsTreeSpec, writeProcfsTree } from '../kernel/procfs-tree.js';
import { doctorCase, FIXTURE_WINDOW_SECONDS, sampleCase } from './doctor-fixtures.js';

/** A fixture case's two samples through the checks, over the fixture window unless given. */
export function analyseCase(
  name: string,
  windowSeconds = FIXTURE_WINDOW_SECONDS,
  checks: readonly Check[] = CHECKS,
): Analysis {
  const { first, second } = sampleCase(doctorCase(name));
  return analyse(first, second, windowSeconds, checks);
}

/** The one finding with this id; fails the test when there are none or several. */
export function only(findings: readonly Finding[], id: FindingId): Finding {
  const matching = findings.filter((finding) => finding.id === id);
  expect(matching, `exactly one ${id}`).toHaveLength(1);
  return matching[0] as Finding;
}

/** Every command and configuration line of a finding: stop-the-bleeding steps, then the fix. */
export function fixLines(finding: Finding): string[] {
  return [...finding.stopTheBleeding, ...finding.fix].flatMap((step) => step.lines ?? []);
}

/** The lines of the real fix alone. */
export function realFixLines(finding: Finding): string[] {
  return finding.fix.flatMap((step) => step.lines ?? []);
}

/** The lines of the stop-the-bleeding steps alone. */
export function reliefLines(finding: Finding): string[] {
  return finding.stopTheBleeding.flatMap((step) => step.lines ?? []);
}

/** Sockets a tree holds that match, summed over their counts. */
export function socketCount(
  spec: ProcfsTreeSpec,
  match: (socket: { state: string; local: string; remote?: string }) => boolean,
): number {
  return (spec.sockets ?? []).filter(match).reduce((sum, socket) => sum + (socket.count ?? 1), 0);
}

/** Samples an ad-hoc tree; the tree is gone again when this returns. */
export function sampleTree(spec: ProcfsTreeSpec, snatUsablePorts?: string): Snapshot {
  const root = mkdtempSync(join(tmpdir(), 'tsd-check-'));
  try {
    writeProcfsTree(root, spec);
    return sampleProcfs(doctorSampleOptions(root, snatUsablePorts));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A fixture case's tree (its second sample) with some sysctls changed, sampled. */
export function sampleCaseWithSysctls(
  name: string,
  sysctls: Readonly<Record<string, number>>,
): Snapshot {
  const base = doctorCase(name).tree;
  return sampleTree({ ...base, sysctls: { ...base.sysctls, ...sysctls } });
}
