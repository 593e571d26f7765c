/**
 * test/ mirrors src/: it holds test files only (besides the fixture trees and golden files
 * they read), and every folder is either a src/ folder or one of the suites that test the
 * product as a whole. Code shared by tests, bench and scripts lives in testkit/.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEST = join(ROOT, 'test');
/** Data the tests read, not tests. */
const DATA_FOLDERS = new Set(['fixtures', 'golden']);
/** Suites of the whole product, with no src/ folder of their own (docs/architecture.md). */
const WHOLE_PRODUCT_SUITES = new Set(['bench', 'deploy', 'e2e', 'mixin', 'reliability', 'repo']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (!entry.isDirectory()) return [path];
    return DATA_FOLDERS.has(entry.name) && dir === TEST ? [] : files(path);
  });
}

describe('the test tree', () => {
  it('holds only test files outside its fixture and golden folders', () => {
    const others = files(TEST)
      .map((path) => relative(ROOT, path))
      .filter((path) => !path.endsWith('.test.ts'));
    expect(others).toEqual([]);
  });

  it('names each folder after a src/ folder or a whole-product suite', () => {
    const srcFolders = new Set(
      readdirSync(join(ROOT, 'src'), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name),
    );
    const strays = readdirSync(TEST, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !DATA_FOLDERS.has(entry.name))
      .map((entry) => entry.name)
      .filter((name) => !srcFolders.has(name) && !WHOLE_PRODUCT_SUITES.has(name));
    expect(strays).toEqual([]);
  });
});
