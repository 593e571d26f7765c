import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { RULES_PATH, renderMixin } from '../../mixin/outputs.js';
import { driftedFiles } from '../../scripts/gen-mixin.js';

const repoRoot = resolve(import.meta.dirname, '../..');

describe('generated mixin files', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tsa-drift-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('are committed exactly as the generator writes them', () => {
    for (const [path, content] of renderMixin(defaultConfig)) {
      expect(readFileSync(join(repoRoot, path), 'utf8'), `${path}: run npm run gen:mixin`).toBe(
        content,
      );
    }
    expect(driftedFiles(repoRoot)).toEqual([]);
  });

  it('--check names a file that differs, and a missing one', () => {
    const copy = join(scratch, 'repo');
    for (const path of renderMixin(defaultConfig).keys()) {
      cpSync(join(repoRoot, path), join(copy, path));
    }
    writeFileSync(join(copy, RULES_PATH), '# edited by hand\n');
    rmSync(join(copy, 'grafana/dashboards/tcpstate-ports.json'));
    expect(driftedFiles(copy)).toEqual([RULES_PATH, 'grafana/dashboards/tcpstate-ports.json']);
  });

  it('the script exits 0 on the committed tree', () => {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts/gen-mixin.ts'), '--check'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(output).toBe('');
  });
});
