/**
 * Gates for tests that need root, network namespaces or a Debian tool. Locally such a
 * test skips with a loud reason; under CI=true a missing capability is a failure, so a
 * green CI run always means the test really ran.
 */
import { execFileSync } from 'node:child_process';

const isCi = process.env.CI === 'true';

function commandWorks(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Why a capability is missing, or undefined when it is there. */
export function missingCapability(need: {
  readonly root?: boolean;
  readonly netns?: boolean;
  readonly commands?: readonly string[];
}): string | undefined {
  if ((need.root || need.netns) && process.getuid?.() !== 0) return 'needs root';
  if (need.netns && !commandWorks('ip', ['netns', 'list'])) return 'needs `ip netns` (iproute2)';
  for (const command of need.commands ?? []) {
    if (!commandWorks('sh', ['-c', `command -v ${command}`])) return `needs \`${command}\` on PATH`;
  }
  return undefined;
}

/**
 * Returns true when the test may run. Otherwise prints a loud reason and returns false
 * (use with `describe.skipIf(!canRun(...))`), or throws under CI=true.
 */
export function canRun(what: string, need: Parameters<typeof missingCapability>[0]): boolean {
  const missing = missingCapability(need);
  if (missing === undefined) return true;
  const message = `SKIPPING ${what}: ${missing}`;
  if (isCi) throw new Error(`${message} (CI=true: every capability must be present)`);
  console.warn(`\n*** ${message} ***\n`);
  return false;
}
