/**
 * Running the packaged exporter the way its deployments do, and checking what it prints.
 * Shared by the systemd, npm pack and container image tests.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { expect } from 'vitest';
import { samplesOf } from '../prometheus/exposition.js';
import { promtoolCheckMetrics } from '../prometheus/promtool.js';

export interface SandboxOptions {
  /** Numeric `uid[:gid]` to run as, like a systemd DynamicUser. */
  readonly user: string;
  /**
   * systemd's ProtectProc=invisible and ProtectKernelTunables=yes: a procfs of its own with
   * hidepid=invisible, and /proc/sys read-only.
   */
  readonly protectProc?: boolean;
  /** AmbientCapabilities, as setpriv names them (`dac_override`); none when absent. */
  readonly capabilities?: readonly string[];
  /**
   * ProtectKernelTunables=yes with ReadWritePaths=: every mount under /sys read-only but
   * these paths.
   */
  readonly readWritePaths?: readonly string[];
}

/**
 * Wraps a command so it runs the way its deployments confine it: in a private mount
 * namespace with `/` remounted read-only (a read-only root filesystem; /tmp and the app are
 * on it here), as an unprivileged numeric user with no capabilities (or only the ambient ones
 * asked for) and no_new_privs. Needs
 * root to set up, like a container runtime or systemd does.
 */
export function sandboxed(
  command: readonly string[],
  options: SandboxOptions,
): { file: string; args: string[] } {
  const ids = /^(\d+)(?::(\d+))?$/.exec(options.user);
  if (ids?.[1] === undefined)
    throw new Error(`user must be numeric uid[:gid], got ${options.user}`);
  const [uid, gid = uid] = [ids[1], ids[2]];
  const steps = ['set -e'];
  if (options.protectProc) {
    steps.push('mount -t proc -o hidepid=invisible proc /proc');
    steps.push('mount --bind /proc/sys /proc/sys', 'mount -o remount,bind,ro /proc/sys');
  }
  if (options.readWritePaths !== undefined) {
    steps.push(
      'mount --rbind /sys /sys',
      `for m in $(awk '$5 ~ "^/sys(/|$)" {print $5}' /proc/self/mountinfo); do mount -o remount,bind,ro "$m"; done`,
      ...options.readWritePaths.map((path) => `mount -o remount,bind,rw ${path}`),
    );
  }
  steps.push('mount -o remount,bind,ro /');
  const caps = (options.capabilities ?? []).map((name) => `,+${name}`).join('');
  const drop = [
    `setpriv --reuid=${uid} --regid=${gid} --clear-groups --no-new-privs`,
    `--bounding-set=-all${caps} --inh-caps=-all${caps} --ambient-caps=-all${caps} --`,
  ].join(' ');
  steps.push(`exec ${drop} "$@"`);
  return {
    file: 'unshare',
    args: ['--mount', '--propagation', 'private', 'sh', '-c', steps.join('; '), 'sh', ...command],
  };
}

/**
 * Asserts what a deployment's exporter printed is a clean exposition (promtool) that counts
 * at least one IPv4 listener in the node's own namespace (with --collector.netns the other
 * namespaces' series, those with a tcpstate_netns_info, are beside it): the
 * loopbackListener the test holds.
 */
export function expectCleanExpositionCountingListener(exposition: string): void {
  expect(promtoolCheckMetrics(exposition)).toBe('');
  const others = new Set(samplesOf(exposition, 'tcpstate_netns_info').map((s) => s.labels.netns));
  const listeners = samplesOf(exposition, 'tcpstate_sockets').filter(
    (s) => s.labels.family === 'ipv4' && s.labels.state === 'listen' && !others.has(s.labels.netns),
  );
  expect(listeners).toHaveLength(1);
  expect(listeners[0]?.value).toBeGreaterThanOrEqual(1);
}

/** A listening IPv4 socket on loopback, so the exporter has a listener it must count. */
export async function loopbackListener(): Promise<Server> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}
