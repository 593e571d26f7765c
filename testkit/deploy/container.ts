/**
 * The image as users run it, with podman (Debian's; there is no Docker engine here): built
 * once by scripts/image.sh, each container named uniquely and removed whatever happens.
 */
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { type Daemon, startDaemon } from '../prometheus/prometheus-daemon.js';
import { repoRoot } from './deploy-config.js';

/** What `npm run image` tags. */
export const IMAGE = 'localhost/tcpstate-exporter:latest';

const BUILD_TIMEOUT_MS = 15 * 60_000;

/** Builds the image with scripts/image.sh (`npm run image`) and returns the seconds it took. */
export function buildImage(): number {
  const started = performance.now();
  const result = spawnSync('bash', ['scripts/image.sh'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.slice(-8000);
    throw new Error(`scripts/image.sh failed (${result.status ?? result.signal}):\n${output}`);
  }
  return (performance.now() - started) / 1000;
}

/**
 * The rlimits of a container, as scripts/image.sh gives its RUN steps: the runtime refuses
 * podman's defaults above the hard limits (and nproc above 20000 here).
 */
export function ulimitArgs(): string[] {
  const [files, processes] = execFileSync('bash', ['-c', 'ulimit -Hn; ulimit -Hu'], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .map((limit) => (limit === 'unlimited' ? Number.POSITIVE_INFINITY : Number(limit)));
  const nproc = Math.min(processes ?? 0, 20_000);
  return ['--ulimit', `nofile=${files}:${files}`, '--ulimit', `nproc=${nproc}:${nproc}`];
}

/** podman, with runc where installed, as scripts/image.sh (crun fails on hybrid cgroups). */
export function podmanCommand(): [string, string[]] {
  const runc = spawnSync('sh', ['-c', 'command -v runc']).status === 0;
  return ['podman', runc ? ['--runtime', 'runc'] : []];
}

/** Runs podman to completion. */
export function podman(args: readonly string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
  const [command, global] = podmanCommand();
  return spawnSync(command, [...global, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

let containers = 0;
const named = new Set<string>();
process.once('exit', () => {
  for (const name of named) podman(['rm', '--force', '--time', '0', name]);
});

/** A container name of this process alone; the container is removed on exit if still there. */
function containerName(): string {
  containers += 1;
  const name = `tcpstate-test-${process.pid}-${containers}`;
  named.add(name);
  return name;
}

/**
 * Runs the image in the foreground under a name of its own (`podman run` passes SIGTERM on
 * to it); remove it with removeContainer after stopping.
 */
export function startContainer(
  options: readonly string[],
  args: readonly string[],
): { daemon: Daemon; name: string } {
  const name = containerName();
  const [command, global] = podmanCommand();
  const daemon = startDaemon(command, [
    ...global,
    'run',
    '--rm',
    '--name',
    name,
    ...options,
    ...ulimitArgs(),
    IMAGE,
    ...args,
  ]);
  return { daemon, name };
}

/** Removes a container now (gone already is fine). */
export function removeContainer(name: string): void {
  podman(['rm', '--force', '--time', '0', name]);
  named.delete(name);
}
