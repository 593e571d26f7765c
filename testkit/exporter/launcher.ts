/**
 * What the entry's `#!/usr/bin/env -S [NAME=VALUE...] node [flags...]` line starts the daemon
 * with, so that tests, the Dockerfile check and benchmarks run it as installed.
 */
import { readFileSync } from 'node:fs';

export interface Launcher {
  /** Environment the #! line sets (malloc tuning). */
  readonly env: Readonly<Record<string, string>>;
  /** node's own flags, before the script. */
  readonly nodeFlags: readonly string[];
}

export function launcherOf(script: string | URL): Launcher {
  const shebang = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const words = /^#!\S*env -S (.*)$/.exec(shebang)?.[1]?.split(' ') ?? [];
  const node = words.indexOf('node');
  if (node < 0)
    throw new Error(`${String(script)}: the #! line does not start node through env -S`);
  const env: Record<string, string> = {};
  for (const assignment of words.slice(0, node)) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new Error(`${String(script)}: "${assignment}" is not NAME=VALUE`);
    env[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  return { env, nodeFlags: words.slice(node + 1) };
}
