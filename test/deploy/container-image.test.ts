/**
 * The image, built by `npm run image` (scripts/image.sh) from the Dockerfile and run as users
 * run it: `docker run` as the Dockerfile's header shows (read-only root, host /proc at
 * /host/proc, the image's USER), and the DaemonSet's namespace mode with exactly the
 * capabilities, user and mounts its manifest gives (its tracefs too: failures counted in a
 * namespace), then with none of the capabilities. Every count is compared with `ss` on the
 * same sockets, every failure with what the client saw.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  IMAGE,
  podman,
  removeContainer,
  startContainer,
  ulimitArgs,
} from '../../testkit/deploy/container.js';
import { readYamlDocuments } from '../../testkit/deploy/deploy-config.js';
import { expectCleanExpositionCountingListener } from '../../testkit/deploy/deploy-runtime.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { runFailingCalls } from '../../testkit/kernel/failing-calls.js';
import { asUser } from '../../testkit/kernel/namespace-process.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';
import {
  type Daemon,
  freeLoopbackPort,
  waitFor,
  waitUntilReady,
} from '../../testkit/prometheus/prometheus-daemon.js';

/** The Dockerfile header's `docker run`: the host's network and /proc, a read-only root. */
const AS_DOCUMENTED = ['--read-only', '--network', 'host', '-v', '/proc:/host/proc:ro'];
const CLIENTS = 3;
const POD_LISTENERS = 3;
const POD_PORT_RANGE = '40123 40999';
const POD_USER = 1000;

/** Established sockets whose local port is `port`, as ss sees them now. */
function ssEstablishedFrom(port: number): number {
  const result = spawnSync('ss', ['-tnH', 'state', 'established', `( sport = :${port} )`], {
    encoding: 'utf8',
  });
  return result.stdout.split('\n').filter((line) => line.trim() !== '').length;
}

interface PodSpec {
  hostNetwork?: boolean;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  volumes: { name: string; hostPath?: { path: string } }[];
  containers: {
    args: string[];
    securityContext: {
      allowPrivilegeEscalation?: boolean;
      readOnlyRootFilesystem?: boolean;
      capabilities?: { add?: string[]; drop?: string[] };
    };
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
}

/**
 * `podman run` options that give a container what the DaemonSet's pod spec gives it: the
 * node's network, its user, read-only root, no privilege escalation, its capabilities (or
 * none when `withCapabilities` is false) and its hostPath mounts.
 */
function daemonSetRunOptions(withCapabilities: boolean): { options: string[]; args: string[] } {
  const [daemonSet] = readYamlDocuments('deploy/kubernetes/daemonset.yaml') as {
    spec: { template: { spec: PodSpec } };
  }[];
  const pod = daemonSet?.spec.template.spec as PodSpec;
  const container = pod.containers[0];
  if (container === undefined) throw new Error('the DaemonSet has no container');
  const security = container.securityContext;
  const options = [
    ...(pod.hostNetwork ? ['--network', 'host'] : []),
    '--user',
    `${pod.securityContext?.runAsUser}:${pod.securityContext?.runAsGroup}`,
    ...(security.readOnlyRootFilesystem ? ['--read-only'] : []),
    ...(security.allowPrivilegeEscalation === false ? ['--security-opt', 'no-new-privileges'] : []),
    ...(security.capabilities?.drop ?? []).flatMap((name) => ['--cap-drop', name]),
    ...(withCapabilities ? (security.capabilities?.add ?? []) : []).flatMap((name) => [
      '--cap-add',
      name,
    ]),
    ...container.volumeMounts.flatMap((mount) => {
      const hostPath = pod.volumes.find((volume) => volume.name === mount.name)?.hostPath?.path;
      if (hostPath === undefined) throw new Error(`volume ${mount.name} is not a hostPath`);
      return ['-v', `${hostPath}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`];
    }),
  ];
  return { options, args: container.args };
}

describe.skipIf(
  !canRun('the container image', {
    netns: true,
    commands: ['podman', 'mmdebstrap', 'setpriv', 'ss'],
  }),
)('the image built by npm run image, run as users run it', () => {
  const lab = new NetnsLab('tci');
  let listener: Server;
  let port: number;
  const clients: Socket[] = [];
  const accepted: Socket[] = [];

  beforeAll(async () => {
    const seconds = buildImage();
    console.log(`npm run image took ${seconds.toFixed(1)} s`);
    listener = createServer((socket) => accepted.push(socket));
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    port = (listener.address() as { port: number }).port;
    for (let i = 0; i < CLIENTS; i++) {
      const client = connect(port, '127.0.0.1');
      clients.push(client);
      await once(client, 'connect');
    }
    await waitFor(() => (accepted.length === CLIENTS ? true : undefined), {
      timeoutMs: 5_000,
      describe: () => `${accepted.length} of ${CLIENTS} connections accepted`,
    });
  }, 16 * 60_000);

  afterAll(async () => {
    for (const socket of [...clients, ...accepted]) socket.destroy();
    listener?.close();
    await lab.close();
  });

  /** Our listener's accepted sockets, as the exporter counted them and as ss does now. */
  function expectOurConnections(exposition: string): void {
    const counted = sampleValue(exposition, 'tcpstate_local_port_sockets', {
      port: String(port),
      state: 'established',
    });
    expect(ssEstablishedFrom(port)).toBe(CLIENTS);
    expect(counted).toBe(ssEstablishedFrom(port));
  }

  it('carries the build output and production dependencies only', () => {
    const result = podman([
      'run',
      '--rm',
      ...ulimitArgs(),
      '--entrypoint',
      'cat',
      IMAGE,
      '/app/node_modules/.package-lock.json',
    ]);
    expect(result.status, result.stderr).toBe(0);
    const installed = JSON.parse(result.stdout) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const dev = Object.entries(installed.packages).filter(([, entry]) => entry.dev);
    expect(dev.map(([path]) => path)).toEqual([]);
    expect(Object.keys(installed.packages)).toContain('node_modules/prom-client');
    // Nothing the exporter never loads: the dependencies' tests, docs, types and maps.
    const unused = podman([
      'run',
      '--rm',
      ...ulimitArgs(),
      '--entrypoint',
      'find',
      IMAGE,
      '/app/node_modules',
      '(',
      '-type',
      'd',
      '-name',
      'test*',
      ')',
      '-o',
      '-name',
      '*.md',
      '-o',
      '-name',
      '*.d.ts',
      '-o',
      '-name',
      '*.map',
    ]);
    expect(unused.status, unused.stderr).toBe(0);
    expect(unused.stdout).toBe('');
  });

  it("--once on a read-only root prints the host's sockets, as the image's user", () => {
    // Arguments after the image replace CMD: --path.procfs=/host/proc stays among them. All
    // listening ports one by one, however many this host has.
    const result = podman([
      'run',
      '--rm',
      ...AS_DOCUMENTED,
      ...ulimitArgs(),
      IMAGE,
      '--path.procfs=/host/proc',
      '--once',
      '--collector.ports.max-listen=1000',
    ]);
    expect(result.stderr).not.toMatch(/EROFS|EACCES/);
    expect(result.status, result.stderr).toBe(0);
    expectCleanExpositionCountingListener(result.stdout);
    expectOurConnections(result.stdout);
  });

  it('serves /metrics as uid 65534 without capabilities, and stops cleanly on SIGTERM', async () => {
    const web = await freeLoopbackPort();
    const { daemon, name } = startContainer(AS_DOCUMENTED, [
      '--path.procfs=/host/proc',
      `--web.listen-address=127.0.0.1:${web}`,
      '--collector.ports.max-listen=1000',
    ]);
    try {
      const base = `http://127.0.0.1:${web}`;
      await waitUntilReady(daemon, `${base}/-/ready`, { name: 'the container', timeoutMs: 60_000 });
      const pid = podman(['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expectCleanExpositionCountingListener(metrics);
      expectOurConnections(metrics);
      await daemon.stop(15_000);
      expect(daemon.child.exitCode, daemon.output()).toBe(0);
      expect(daemon.output()).not.toMatch(/EROFS|EACCES/);
    } finally {
      await daemon.stop(1_000);
      removeContainer(name);
    }
  });

  /** A pod's namespace: its own port range, and listeners of a process of another user. */
  async function startPod(): Promise<{ ns: string; pid: number }> {
    const ns = lab.addNamespace('pod');
    lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', POD_PORT_RANGE);
    const script = [
      "const net = require('node:net');",
      `let left = ${POD_LISTENERS};`,
      "for (let i = 0; i < left; i++) net.createServer().listen(0, '127.0.0.1', () => { if (--left === 0) console.log('ready'); });",
    ].join(' ');
    const [command, args] = asUser(POD_USER, process.execPath, ['-e', script]);
    const child = lab.spawn(ns, command, args);
    const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    expect(chunk.toString()).toContain('ready');
    return { ns, pid: child.pid as number };
  }

  /**
   * The DaemonSet's --collector.connect-errors with its tracefs mount counts the failures a
   * client in another namespace saw, under that namespace's inode.
   */
  async function expectCountedFailures(base: string, daemon: Daemon): Promise<void> {
    const client = await runFailingCalls(lab, lab.addNamespace('failing'), {
      connects: 3,
      binds: 2,
    });
    try {
      const netns = String(client.nsInode);
      const counted = (text: string, name: string): number | undefined =>
        namespaceValue(text, name, { netns });
      const body = await waitFor(
        async () => {
          const text = await (await fetch(`${base}/metrics`)).text();
          return counted(text, 'tcpstate_bind_errors_total') === undefined ? undefined : text;
        },
        { timeoutMs: 30_000, intervalMs: 200, describe: () => daemon.output() },
      );
      expect(client.outcomes.connect.EADDRNOTAVAIL).toBeGreaterThan(0);
      expect(counted(body, 'tcpstate_connect_errors_total')).toBe(
        client.outcomes.connect.EADDRNOTAVAIL,
      );
      expect(counted(body, 'tcpstate_bind_errors_total')).toBe(client.outcomes.bind.EADDRINUSE);
    } finally {
      await client.end();
    }
  }

  for (const withCapabilities of [true, false]) {
    const title = withCapabilities
      ? "with the DaemonSet's user, mounts and capabilities it sees a pod's sockets and sysctls"
      : 'without the capabilities it sees the sockets, says the sysctls are assumed and serves on';
    it(title, async () => {
      const { ns, pid } = await startPod();
      // The namespace's inode needs ptrace access to the pod's process; without it the
      // exporter labels the namespace with the inode of its net/tcp (docs/namespaces.md).
      const label = String(
        withCapabilities ? statSync(`/run/netns/${ns}`).ino : statSync(`/proc/${pid}/net/tcp`).ino,
      );
      const web = await freeLoopbackPort();
      const { options, args } = daemonSetRunOptions(withCapabilities);
      const { daemon, name } = startContainer(options, [
        ...args.filter((arg) => !arg.startsWith('--web.listen-address=')),
        `--web.listen-address=127.0.0.1:${web}`,
        // Every namespace of this host is exported, ours too. A round reads each one's
        // tables, which on a shared host full of namespaces and sockets takes far more than
        // a second; the first round starts at once, and one runs up to 6 intervals.
        '--collector.netns.interval=30s',
        '--collector.netns.max=1000',
      ]);
      try {
        const base = `http://127.0.0.1:${web}`;
        await waitUntilReady(daemon, `${base}/-/ready`, {
          name: 'the container',
          timeoutMs: 60_000,
        });
        const metrics = await waitFor(
          async () => {
            const text = await (await fetch(`${base}/metrics`)).text();
            return namespaceValue(text, 'tcpstate_sysctls_assumed', { netns: label }) === undefined
              ? undefined
              : text;
          },
          {
            timeoutMs: 240_000,
            intervalMs: 1_000,
            describe: () => `namespace ${label} not exported: ${daemon.output()}`,
          },
        );
        const listening = lab.exec(ns, 'ss', ['-tlnH']).split('\n').filter(Boolean).length;
        expect(listening).toBe(POD_LISTENERS);
        expect(
          namespaceValue(metrics, 'tcpstate_sockets', {
            netns: label,
            family: 'ipv4',
            state: 'listen',
          }),
        ).toBe(listening);
        const low = namespaceValue(metrics, 'tcpstate_sysctl', {
          netns: label,
          name: 'net.ipv4.ip_local_port_range.low',
        });
        const own = Number(lab.readSysctl(ns, 'net.ipv4.ip_local_port_range').split(/\s+/)[0]);
        if (withCapabilities) {
          expect(namespaceValue(metrics, 'tcpstate_sysctls_assumed', { netns: label })).toBe(0);
          expect(low).toBe(own);
          await expectCountedFailures(base, daemon);
        } else {
          expect(namespaceValue(metrics, 'tcpstate_sysctls_assumed', { netns: label })).toBe(1);
          expect(low).not.toBe(own);
          expect(daemon.output()).toMatch(/namespace sysctls assumed/);
          expect((await fetch(`${base}/-/ready`)).status).toBe(200);
          expect(sampleValue(metrics, 'tcpstate_collector_success', { collector: 'netns' })).toBe(
            1,
          );
          expectCleanExpositionCountingListener(metrics);
        }
      } finally {
        await daemon.stop(5_000);
        removeContainer(name);
      }
    }, 300_000);
  }
});

/** The value of the one `name` sample of our namespace (its pod labels are whatever they are). */
function namespaceValue(
  body: string,
  name: string,
  labels: Readonly<Record<string, string>>,
): number | undefined {
  const found = samplesOf(body, name).filter((sample) =>
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} appears ${found.length} times`);
  return found[0]?.value;
}
