/** The exporter tests' procfs trees: the committed minimal capture and scratch copies of it. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A tiny real capture; see its README. */
export const MINIMAL_PROCFS = fileURLToPath(
  new URL('../../test/fixtures/minimal', import.meta.url),
);

export interface ScratchProcfs {
  readonly root: string;
  remove(): void;
}

/** A writable copy of the minimal tree, for tests that break or block a file. */
export function scratchProcfs(): ScratchProcfs {
  const root = mkdtempSync(join(tmpdir(), 'tsv-procfs-'));
  cpSync(MINIMAL_PROCFS, root, { recursive: true });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
