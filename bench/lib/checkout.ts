/** A git revision's files in the bench's scratch space, for before/after parts. */
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './context.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The files of `revision` in a scratch directory, as `git archive` gives them. */
export function checkout(context: BenchContext, revision: string): string {
  const dir = context.scratchDir('baseline');
  const archive = execFileSync('git', ['-C', REPO, 'archive', '--format=tar', revision], {
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  // Its compiler needs the type packages; the lock file is the same or close enough.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
