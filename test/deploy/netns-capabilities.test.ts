/**
 * The capabilities of `--collector.netns`: docs/namespaces.md justifies a set, and the DaemonSet, the
 * Compose stack and the systemd drop-in grant exactly that set. Then, on the real kernel, that
 * set is what entering another user's network namespace needs: with it nsenter reads the
 * namespace's sysctls as root (Kubernetes, Compose) and as an unprivileged user with ambient
 * capabilities (systemd); without either one it fails; and finding the namespace and reading
 * its tables and cgroup needs no capability at all.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readYamlDocuments, repoRoot } from '../../testkit/deploy/deploy-config.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { type Daemon, startDaemon, waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

/** `CAP_SYS_ADMIN` → `sys_admin`, as setpriv names them. */
const setprivName = (capability: string): string => capability.replace(/^CAP_/, '').toLowerCase();
const withPrefix = (name: string): string => `CAP_${name.toUpperCase()}`;

/** The capabilities docs/namespaces.md's "Turning it on" section lists in its table. */
function documentedCapabilities(): string[] {
  const page = readFileSync(join(repoRoot, 'docs/namespaces.md'), 'utf8');
  const section = page.split(/^## /m).find((part) => part.startsWith('Turning it on'));
  return [...(section ?? '').matchAll(/^\| `(CAP_[A-Z_]+)` \|/gm)].map((match) => match[1] ?? '');
}

interface Container {
  securityContext?: { capabilities?: { add?: string[]; drop?: string[] } };
  args?: string[];
}

function daemonSetContainer(): Container {
  const [daemonSet] = readYamlDocuments('deploy/kubernetes/daemonset.yaml') as {
    spec: { template: { spec: { containers: Container[] } } };
  }[];
  return daemonSet?.spec.template.spec.containers[0] ?? {};
}

function composeExporter(): { cap_add?: string[]; cap_drop?: string[]; command?: string[] } {
  const [compose] = readYamlDocuments('deploy/compose/docker-compose.yml') as {
    services: Record<string, { cap_add?: string[]; cap_drop?: string[]; command?: string[] }>;
  }[];
  return compose?.services.exporter ?? {};
}

/** `Key=value` lines of the systemd drop-in. */
function dropIn(): Map<string, string> {
  const text = readFileSync(join(repoRoot, 'deploy/systemd/netns.conf'), 'utf8');
  return new Map(
    text
      .split('\n')
      .filter((line) => /^[A-Za-z]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('the capabilities of --collector.netns, as documented and as deployed', () => {
  const justified = documentedCapabilities();

  it('docs/namespaces.md justifies CAP_SYS_ADMIN and CAP_SYS_PTRACE', () => {
    expect([...justified].sort()).toEqual(['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']);
  });

  it('the DaemonSet drops every other one and turns the collector on', () => {
    const container = daemonSetContainer();
    expect(container.securityContext?.capabilities?.drop).toEqual(['ALL']);
    expect((container.securityContext?.capabilities?.add ?? []).map(withPrefix).sort()).toEqual(
      [...justified].sort(),
    );
    expect(container.args).toContain('--collector.netns');
  });

  it('the Compose exporter drops every other one and turns the collector on', () => {
    const exporter = composeExporter();
    expect(exporter.cap_drop).toEqual(['ALL']);
    expect((exporter.cap_add ?? []).map(withPrefix).sort()).toEqual([...justified].sort());
    expect(exporter.command).toContain('--collector.netns');
  });

  it('the systemd drop-in grants them as ambient capabilities and bounds the unit to them', () => {
    const settings = dropIn();
    for (const key of ['AmbientCapabilities', 'CapabilityBoundingSet']) {
      expect(settings.get(key)?.split(/\s+/).sort(), key).toEqual([...justified].sort());
    }
    // Other users' processes must be listed, and nsenter enters network namespaces only.
    expect(settings.get('ProtectProc')).toBe('default');
    expect(settings.get('RestrictNamespaces')).toBe('net');
  });
});

const PORT_RANGE = '40123 40999';

describe.skipIf(
  !canRun('entering a namespace with exactly the documented capabilities', {
    netns: true,
    commands: ['setpriv', 'nsenter'],
  }),
)('entering another user’s network namespace needs exactly those capabilities', () => {
  const lab = new NetnsLab('tsc');
  const justified = documentedCapabilities().map(setprivName);
  let target: Daemon;
  let pid: number;

  beforeAll(async () => {
    const ns = lab.addNamespace('pod');
    lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', PORT_RANGE);
    // A pod's process: another user, as most pods' are. ip and setpriv exec in turn, so
    // the child's pid becomes the sleep's once it runs as that user.
    target = startDaemon(
      'setpriv',
      ['--reuid=1000', '--regid=1000', '--clear-groups', 'sleep', '120'],
      { netns: ns },
    );
    pid = target.child.pid as number;
    await waitFor(
      () =>
        /^Uid:\s+1000\b/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')) ? true : undefined,
      { timeoutMs: 10_000, describe: () => `target not running as uid 1000: ${target.output()}` },
    );
  }, 30_000);

  afterAll(async () => {
    await target?.stop();
    await lab.close();
  });

  /** nsenter into the target's namespace as `user` (uid) with `capabilities`, no_new_privs on. */
  function enter(user: 'root' | 'nobody', capabilities: readonly string[]) {
    const caps = capabilities.map((name) => `+${name}`).join(',');
    const identity = user === 'root' ? [] : ['--reuid=65534', '--regid=65534', '--clear-groups'];
    const ambient =
      user === 'root' || caps === '' ? [] : [`--inh-caps=${caps}`, `--ambient-caps=${caps}`];
    return spawnSync(
      'setpriv',
      [
        ...identity,
        '--no-new-privs',
        ...(user === 'root' || caps === '' ? ['--inh-caps=-all'] : []),
        ...ambient,
        `--bounding-set=-all${caps === '' ? '' : `,${caps}`}`,
        'nsenter',
        `--net=/proc/${pid}/ns/net`,
        'cat',
        '/proc/sys/net/ipv4/ip_local_port_range',
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
  }

  for (const user of ['root', 'nobody'] as const) {
    it(`${user} with them reads the namespace's own sysctls`, () => {
      const result = enter(user, justified);
      expect(result.stdout.trim().split(/\s+/).join(' '), result.stderr).toBe(PORT_RANGE);
    });

    it(`${user} missing either one cannot enter`, () => {
      for (const left of justified) {
        const result = enter(
          user,
          justified.filter((name) => name !== left),
        );
        expect(result.status, `${user} without ${left}`).not.toBe(0);
        expect(result.stderr).toMatch(/Permission denied|Operation not permitted/);
      }
    });
  }

  it('nobody without any capability finds the namespace and reads its table and cgroup', () => {
    const result = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        'sh',
        '-c',
        `stat -L -c %i /proc/${pid}/net/tcp && head -1 /proc/${pid}/net/tcp && cat /proc/${pid}/cgroup`,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const [inode, header] = result.stdout.split('\n');
    expect(Number(inode)).toBeGreaterThan(0);
    expect(header).toMatch(/^\s*sl\s+local_address/);
  });
});
