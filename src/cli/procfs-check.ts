import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Why this procfs root cannot be sampled at all, or undefined when net/tcp is there. */
export function procfsRootProblem(procfsRoot: string): string | undefined {
  const tcp = join(procfsRoot, 'net/tcp');
  if (existsSync(tcp)) return undefined;
  return `${tcp} does not exist: --path.procfs must point at a procfs mount such as /proc or /proc/<pid>`;
}
