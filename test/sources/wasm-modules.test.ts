/**
 * The committed WebAssembly modules are generated: each must be exactly what its source
 * assembles to, so that nobody reviews one and runs the other.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderWasmModule, WASM_MODULES } from '../../scripts/gen-wasm.js';

const repoRoot = resolve(import.meta.dirname, '../..');

describe.each(WASM_MODULES)('$module', (target) => {
  const wat = readFileSync(join(repoRoot, target.wat), 'utf8');

  it('is committed exactly as scripts/gen-wasm.ts assembles its source', async () => {
    expect(readFileSync(join(repoRoot, target.module), 'utf8')).toBe(
      await renderWasmModule(wat, target),
    );
  });

  it('changes when the source changes', async () => {
    const edited = wat.replace('(i32.const 32)', '(i32.const 33)');
    expect(edited).not.toBe(wat);
    expect(await renderWasmModule(edited, target)).not.toBe(await renderWasmModule(wat, target));
  });

  it('rejects a source that does not assemble, naming the line', async () => {
    const name = basename(target.wat).replace('.', '\\.');
    await expect(renderWasmModule(`${wat}\n(oops)`, target)).rejects.toThrow(
      new RegExp(`${name}:\\d+`),
    );
  });
});

describe('scripts/gen-wasm.ts', () => {
  it('exits 0 with --check on the committed tree', () => {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts/gen-wasm.ts'), '--check'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(output).toBe('');
  });
});
