import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { doctorSampleOptions } from '../../../src/config/defaults.js';
import { analyse } from '../../../src/doctor/analyse.js';
import { conntrackNearFull } from '../../../src/doctor/checks/conntrack-near-full.js';
import { CONNTRACK_MAX } from '../../../src/doctor/sysctl-names.js';
import { analyseCase, only, sampleTree } from '../../../testkit/doctor/check-runs.js';
import { FIXTURE_WINDOW_SECONDS } from '../../../testkit/doctor/doctor-fixtures.js';
import { sampleProcfs } from '../../../testkit/exporter/exporter-snapshots.js';
import { writeProcfsTree } from '../../../testkit/kernel/procfs-tree.js';

const checks = [conntrackNearFull];
const LIMIT = 1000;
const tree = (entries: number) => ({
  sysctls: { [CONNTRACK_MAX]: LIMIT },
  conntrackEntries: entries,
});

describe('conntrack-near-full', () => {
  it('compares the entries of net/stat/nf_conntrack with nf_conntrack_max', () => {
    const { findings } = analyseCase('conntrack-near-full.trigger', FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'conntrack-near-full');
    expect(finding.evidence).toMatchObject({ entries: 750, [CONNTRACK_MAX]: LIMIT });
    const lines = finding.stopTheBleeding.flatMap((step) => step.lines ?? []);
    expect(lines).toContain(`sysctl -w ${CONNTRACK_MAX}=${2 * LIMIT}`);
    // A quarter of the raised limit: one bucket per four entries at most.
    expect(lines).toContain(
      `echo ${(2 * LIMIT) / 4} > /sys/module/nf_conntrack/parameters/hashsize`,
    );
  });

  it('is critical at the limit, where new flows are dropped', () => {
    const snapshot = sampleTree(tree(LIMIT));
    const { findings } = analyse(snapshot, snapshot, 0, checks);
    expect(only(findings, 'conntrack-near-full').severity).toBe('critical');
  });

  it('finds nothing and skips nothing without nf_conntrack', () => {
    const snapshot = sampleTree({});
    expect(analyse(snapshot, snapshot, 0, checks)).toMatchObject({ findings: [], skipped: [] });
  });

  it('is skipped, naming the file, when net/stat/nf_conntrack is malformed', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsd-conntrack-'));
    try {
      writeProcfsTree(root, tree(900));
      writeFileSync(join(root, 'net/stat/nf_conntrack'), 'entries drop\nzz 00000001\n');
      const snapshot = sampleProcfs(doctorSampleOptions(root));
      const { findings, skipped } = analyse(snapshot, snapshot, 0, checks);
      expect(findings).toEqual([]);
      expect(skipped.find((check) => check.id === 'conntrack-near-full')?.reason).toMatch(
        /net\/stat\/nf_conntrack unreadable: .*not a hex counter/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
