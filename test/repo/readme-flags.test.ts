import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FLAGS_END, FLAGS_START, withFlagTable } from '../../scripts/readme-flags.js';
import { flagSynopsis } from '../../src/cli/help.js';
import { EXPORTER_FLAGS } from '../../src/config/flags.js';
import { REPO_ROOT } from '../../testkit/exporter/exporter-cli.js';

function generator(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'scripts/gen-readme-flags.ts'), ...args],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 },
      (error, _stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code), stderr }),
    );
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const README = `# title\n\nintro\n\n${FLAGS_START}\n| stale | table |\n${FLAGS_END}\n\n## Metrics\n`;

describe('README flag table', () => {
  it('replaces only the block between the markers with one row per flag', () => {
    const updated = withFlagTable(README);
    expect(updated.startsWith('# title\n\nintro\n\n<!-- flags:start -->\n| flag |')).toBe(true);
    expect(updated.endsWith(`|\n${FLAGS_END}\n\n## Metrics\n`)).toBe(true);
    expect(updated).not.toContain('stale');
    for (const spec of Object.values(EXPORTER_FLAGS)) {
      expect(updated).toContain(`| \`${flagSynopsis(spec).replaceAll('|', '\\|')}\` |`);
    }
    expect(withFlagTable(updated)).toBe(updated);
  });

  it('refuses a README without the markers', () => {
    expect(() => withFlagTable('# no markers\n')).toThrow(/flags:start/);
  });

  it('fails --check on drift, then writes the table, then passes --check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsv-readme-'));
    dirs.push(dir);
    const path = join(dir, 'README.md');
    writeFileSync(path, README);

    const stale = await generator(['--check', path]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('the flag table is stale');
    expect(readFileSync(path, 'utf8')).toBe(README);

    expect((await generator([path])).code).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(withFlagTable(README));
    expect((await generator(['--check', path])).code).toBe(0);
  });
});
