import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FINDING_IDS } from '../../src/doctor/finding.js';
import {
  DOCTOR_CASES,
  DOCTOR_FIXTURES_DIR,
  writeDoctorFixtures,
} from '../../testkit/doctor/doctor-fixtures.js';

function filesUnder(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(root, path), readFileSync(path, 'utf8'));
  }
  return files;
}

const fresh = mkdtempSync(join(tmpdir(), 'tsd-fixtures-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

describe('test/fixtures/doctor', () => {
  it('holds exactly what the case descriptions write (regenerate: npx tsx testkit/doctor/doctor-fixtures.ts)', () => {
    writeDoctorFixtures(fresh);
    const expected = filesUnder(fresh);
    const committed = filesUnder(DOCTOR_FIXTURES_DIR);
    committed.delete('README.md');
    expect([...committed.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, text] of expected) expect(committed.get(path), path).toBe(text);
  });

  it('has a triggering and a quiet tree for every finding', () => {
    const triggered = new Set(DOCTOR_CASES.flatMap((testCase) => Object.keys(testCase.expected)));
    const quiet = new Set(DOCTOR_CASES.flatMap((testCase) => testCase.absent));
    expect([...triggered].sort()).toEqual([...quiet].sort());
    expect(triggered.size).toBe(FINDING_IDS.length);
  });
});
