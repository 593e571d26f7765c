/**
 * Running the packaged exporter the way its deployments do, and checking what it prints.
 * Shared by the Dockerfile emulation and the npm pack test.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

export interface SandboxOptions {
  /** Numeric `uid[:gid]` to run as, like an image's USER or a systemd DynamicUser. */
  readonly user: string;
  /** Bind the host's /proc read-only here, as `-v /proc:/host/proc:ro` does. */
  readonly hostProcDir?: string;
  /**
   * systemd's ProtectProc=invisible and ProtectKernelTunables=yes: a procfs of its own with
   * hidepid=invisible, and /proc/sys read-only.
   */
  readonly protectProc?: boolean;
}

/**
 * Wraps a command so it runs the way its deployments confine it: in a private mount
 * namespace with `/` remounted read-only (a read-only root filesystem; /tmp and the app are
 * on it here), as an unprivileged numeric user with no capabilities and no_new_privs. Needs
 * root to set up, like a container runtime or systemd does.
 */
export function sandboxed(
  command: readonly string[],
  options: SandboxOptions,
): { file: string; args: string[]; env: Record<string, string> } {
  const ids = /^(\d+)(?::(\d+))?$/.exec(options.user);
  if (ids?.[1] === undefined)
    throw new Error(`user must be numeric uid[:gid], got ${options.user}`);
  const [uid, gid = uid] = [ids[1], ids[2]];
  const steps = ['set -e'];
  if (options.protectProc) {
    steps.push('mount -t proc -o hidepid=invisible proc /proc');
    steps.push('mount --bind /proc/sys /proc/sys', 'mount -o remount,bind,ro /proc/sys');
  }
  if (options.hostProcDir !== undefined) {
    steps.push('mount --bind /proc "$HOST_PROC"', 'mount -o remount,bind,ro "$HOST_PROC"');
  }
  steps.push('mount -o remount,bind,ro /');
  const drop = [
    `setpriv --reuid=${uid} --regid=${gid} --clear-groups --no-new-privs`,
    '--bounding-set=-all --inh-caps=-all --ambient-caps=-all --',
  ].join(' ');
  steps.push(`exec ${drop} "$@"`);
  return {
    file: 'unshare',
    args: ['--mount', '--propagation', 'private', 'sh', '-c', steps.join('; '), 'sh', ...command],
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
