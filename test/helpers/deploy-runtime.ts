/**
 * Running the packaged exporter the way its deployments do, and checking what it prints.
 * Shared by the Dockerfile emulation and the npm pack test.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

/**
 * Wraps a command so it runs as a container with a read-only root filesystem would: in a
 * private mount namespace where `/` is remounted read-only (/tmp and the app directory are
 * on it here), optionally with the host's /proc bound read-only at `hostProcDir` (the image's
 * `-v /proc:/host/proc:ro`), and as the numeric `uid:gid` of the image's USER. Needs root.
 */
export function containerLike(
  command: readonly string[],
  options: { readonly user: string; readonly hostProcDir?: string },
): { file: string; args: string[]; env: Record<string, string> } {
  const ids = /^(\d+)(?::(\d+))?$/.exec(options.user);
  if (ids?.[1] === undefined)
    throw new Error(`USER must be numeric uid[:gid], got ${options.user}`);
  const [uid, gid = uid] = [ids[1], ids[2]];
  const bindProc =
    options.hostProcDir === undefined
      ? ''
      : 'mount --bind /proc "$HOST_PROC" && mount -o remount,bind,ro "$HOST_PROC" && ';
  const dropToUser = `setpriv --reuid=${uid} --regid=${gid} --clear-groups --`;
  const script = `set -e; ${bindProc}mount -o remount,bind,ro /; exec ${dropToUser} "$@"`;
  return {
    file: 'unshare',
    args: ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...command],
    env: options.hostProcDir === undefined ? {} : { HOST_PROC: options.hostProcDir },
  };
}

/** Fails with promtool's complaint unless the text is a clean Prometheus exposition. */
export function promtoolCheckMetrics(exposition: string): void {
  const result = spawnSync('promtool', ['check', 'metrics'], {
    input: exposition,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `promtool check metrics exited ${result.status}: ${result.stdout}${result.stderr}`,
    );
  }
}

/** Value of the one sample of `name` whose labels include `labels` (order-independent). */
export function sampleValue(
  exposition: string,
  name: string,
  labels: Readonly<Record<string, string>>,
): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(
        (label) => [label[1], label[2]],
      ),
    );
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

/** A listening IPv4 socket on loopback, so the exporter has a listener it must count. */
export async function loopbackListener(): Promise<Server> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freeLoopbackPort(): Promise<number> {
  const server = await loopbackListener();
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
