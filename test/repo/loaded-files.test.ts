/**
 * Every file a test, the testkit or the bench loads by path or URL exists: a file moved
 * without its users turns a test into a load error that may still pass (a worker that fails
 * to load looks like one that crashed). What counts as a load, in code (not comments):
 *
 * - `new URL('<path>', import.meta.url)`, relative to the file;
 * - `join|resolve(import.meta.dirname, '<path>')`, relative to the file's folder;
 * - `join|resolve(REPO_ROOT|ROOT|repoRoot, '<path>')`, relative to the repository;
 * - a whole repository path in quotes under a folder that holds no test inputs
 *   (`testkit/programs/gated-daemon.ts` handed to a launcher), relative to the repository.
 *
 * Paths built at run time (template literals) are not checked here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Folders with code that loads files; test/ minus its data folders. */
const SCANNED = ['test', 'testkit', 'bench'];
const DATA_FOLDERS = new Set(['fixtures', 'golden']);

const QUOTED = `['"]([^'"\`$]+)['"]`;
const FROM_FILE_URL = new RegExp(`new URL\\(\\s*${QUOTED}\\s*,\\s*import\\.meta\\.url\\s*\\)`, 'g');
const FROM_FILE_FOLDER = new RegExp(
  `(?:join|resolve)\\(\\s*import\\.meta\\.dirname\\s*,\\s*${QUOTED}`,
  'g',
);
const FROM_ROOT = new RegExp(
  `(?:join|resolve)\\(\\s*(?:REPO_ROOT|ROOT|repoRoot)\\s*,\\s*${QUOTED}`,
  'g',
);
const REPO_PATH = /['"]((?:testkit|bench|scripts|deploy|docs|grafana|mixin)\/[\w./-]+)['"]/g;

interface Load {
  readonly file: string;
  readonly path: string;
  readonly resolved: string;
}

function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return DATA_FOLDERS.has(entry.name) ? [] : codeFiles(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** The file's text without comment lines, so paths named in prose are not loads. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join('\n');
}

function loadsOf(file: string): Load[] {
  const text = code(file);
  const found = (pattern: RegExp, base: string): Load[] =>
    [...text.matchAll(pattern)].map((match) => {
      const path = match[1] as string;
      return { file: relative(ROOT, file), path, resolved: join(base, path) };
    });
  return [
    ...found(FROM_FILE_URL, dirname(file)),
    ...found(FROM_FILE_FOLDER, dirname(file)),
    ...found(FROM_ROOT, ROOT),
    ...found(REPO_PATH, ROOT),
  ];
}

const LOADS = SCANNED.flatMap((dir) => codeFiles(join(ROOT, dir))).flatMap(loadsOf);

describe('files loaded by path', () => {
  it('are found in the code, so the check below is not vacuous', () => {
    expect(LOADS.length).toBeGreaterThan(50);
    expect(LOADS.map((load) => load.path)).toContain('../../testkit/programs/crash-once-worker.ts');
  });

  it('all exist', () => {
    const missing = LOADS.filter((load) => !existsSync(load.resolved)).map(
      (load) => `${load.file}: ${load.path}`,
    );
    expect(missing).toEqual([]);
  });
});
