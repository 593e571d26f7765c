/**
 * The committed WebAssembly module is generated: it must be exactly what its source
 * assembles to, so that nobody reviews one and runs the other.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderWasmModule, WASM_MODULE_PATH, WAT_PATH } from '../../scripts/gen-wasm.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const wat = readFileSync(join(repoRoot, WAT_PATH), 'utf8');

describe('line-decoder-wasm.ts', () => {
  it('is committed exactly as scripts/gen-wasm.ts assembles line-decoder.wat', async () => {
    expect(readFileSync(join(repoRoot, WASM_MODULE_PATH), 'utf8')).toBe(
      await renderWasmModule(wat),
    );
  });

  it('changes when the source changes', async () => {
    const edited = wat.replace('(i32.const 262144)', '(i32.const 131072)');
    expect(edited).not.toBe(wat);
    expect(await renderWasmModule(edited)).not.toBe(await renderWasmModule(wat));
  });

  it('rejects a source that does not assemble, naming the line', async () => {
    await expect(renderWasmModule(`${wat}\n(oops)`)).rejects.toThrow(/line-decoder\.wat:\d+/);
  });

  it('the script exits 0 with --check on the committed tree', () => {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts/gen-wasm.ts'), '--check'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(output).toBe('');
  });
});
