/**
 * What `--collector.connect-errors` needs in each deployment (docs/connect-errors.md): the
 * DaemonSet and the Compose exporter turn it on with the host's tracefs mounted writable where
 * the flag looks for it; the systemd drop-in gives the unit's dynamic user what a root-owned
 * tracefs asks for. Then, on the real kernel, the built exporter under the unit's confinement
 * with the drop-in counts the failures a client in a namespace saw, and without the drop-in
 * fails that collector alone. The image test runs the DaemonSet's mounts
 * (test/deploy/container-image.test.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonConfig, readYamlDocuments, repoRoot } from '../../testkit/deploy/deploy-config.js';
import { type SandboxOptions, sandboxed } from '../../testkit/deploy/deploy-runtime.js';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { runFailingCalls } from '../../testkit/kernel/failing-calls.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const FLAG = '--collector.connect-errors';
/** Where the exporter looks for tracefs with the deployments' arguments. */
const tracefsOf = (args: readonly string[]): string =>
  daemonConfig(args).collectorOptions.connectErrorsTracefs;

interface PodSpec {
  volumes: { name: string; hostPath?: { path: string } }[];
  containers: {
    args: string[];
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
}

/** `Key=value` lines of a systemd drop-in, values of a repeated key joined. */
function dropIn(name: string): Map<string, string> {
  const text = readFileSync(join(repoRoot, 'deploy/systemd', name), 'utf8');
  const settings = new Map<string, string>();
  for (const line of text.split('\n').filter((one) => /^[A-Za-z]+=/.test(one))) {
    const key = line.slice(0, line.indexOf('='));
    const value = line.slice(line.indexOf('=') + 1);
    settings.set(key, [settings.get(key), value].filter(Boolean).join(' '));
  }
  return settings;
}

describe('--collector.connect-errors in the deployment files', () => {
  it('the DaemonSet turns it on and mounts the node’s tracefs writable where it looks', () => {
    const [daemonSet] = readYamlDocuments('deploy/kubernetes/daemonset.yaml') as {
      spec: { template: { spec: PodSpec } };
    }[];
    const pod = daemonSet?.spec.template.spec as PodSpec;
    const container = pod.containers[0];
    expect(container?.args).toContain(FLAG);
    const mount = container?.volumeMounts.find(
      (one) => one.mountPath === tracefsOf(container.args),
    );
    expect(mount?.readOnly ?? false).toBe(false);
    const volume = pod.volumes.find((one) => one.name === mount?.name);
    expect(volume?.hostPath?.path).toBe('/sys/kernel/tracing');
  });

  it('the Compose exporter turns it on and mounts the host’s tracefs writable where it looks', () => {
    const [compose] = readYamlDocuments('deploy/compose/docker-compose.yml') as {
      services: Record<string, { command: string[]; volumes: string[] }>;
    }[];
    const exporter = compose?.services.exporter;
    expect(exporter?.command).toContain(FLAG);
    const target = tracefsOf(exporter?.command ?? []);
    expect(exporter?.volumes).toContain(`/sys/kernel/tracing:${target}`);
  });

  it('the systemd drop-in makes tracefs writable and grants CAP_DAC_OVERRIDE only', () => {
    const settings = dropIn('connect-errors.conf');
    expect(settings.get('ReadWritePaths')).toBe(tracefsOf([]));
    for (const key of ['AmbientCapabilities', 'CapabilityBoundingSet']) {
      expect(settings.get(key), key).toBe('CAP_DAC_OVERRIDE');
    }
    expect(settings.get('ProtectProc')).toBe('default');
  });
});

/** The base unit's confinement: a dynamic user, no capabilities, read-only root. */
const UNIT: SandboxOptions = { user: '61234:61234' };
/** With deploy/systemd/connect-errors.conf (read from the drop-in). */
function withDropIn(): SandboxOptions {
  const settings = dropIn('connect-errors.conf');
  return {
    ...UNIT,
    capabilities: (settings.get('AmbientCapabilities') ?? '')
      .split(/\s+/)
      .map((name) => name.replace(/^CAP_/, '').toLowerCase()),
    readWritePaths: (settings.get('ReadWritePaths') ?? '').split(/\s+/),
  };
}

describe.skipIf(
  !canRun('the connect-errors collector under the systemd confinement', {
    root: true,
    netns: true,
    commands: ['unshare', 'setpriv'],
  }),
)('the built exporter under the systemd unit’s confinement', () => {
  const lab = new NetnsLab('ced');
  const exporters: RunningExporter[] = [];

  beforeAll(() => {
    statSync(join(repoRoot, 'dist/main.js'));
  });

  afterAll(async () => {
    await Promise.all(exporters.map((exporter) => exporter.daemon.stop()));
    await lab.close();
  });

  async function start(options: SandboxOptions): Promise<RunningExporter> {
    const exporter = await startExporter([FLAG, '--sample.interval=200ms'], {
      built: true,
      wrap: (file, argv) => sandboxed([file, ...argv], options),
    });
    exporters.push(exporter);
    return exporter;
  }

  it('with the drop-in, counts the failures a client in a namespace saw', async () => {
    const exporter = await start(withDropIn());
    const client = await runFailingCalls(lab, lab.addNamespace('pod'), { connects: 3, binds: 2 });
    try {
      // Without CAP_SYS_PTRACE the namespace is named by its net/tcp inode (docs/namespaces.md).
      const netns = String(statSync(`/proc/${client.child.pid}/net/tcp`).ino);
      const body = await waitFor(
        async () => {
          const text = await (await fetch(`${exporter.url}/metrics`)).text();
          const bind = samplesOf(text, 'tcpstate_bind_errors_total');
          return bind.some((one) => one.labels.netns === netns) ? text : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200, describe: () => exporter.daemon.output() },
      );
      expect(client.outcomes.connect.EADDRNOTAVAIL).toBeGreaterThan(0);
      // Not a pod: no kubelet log directories name it.
      const labels = { netns, pod: '', namespace: '', container: '' };
      expect(
        sampleValue(body, 'tcpstate_connect_errors_total', { errno: 'EADDRNOTAVAIL', ...labels }),
      ).toBe(client.outcomes.connect.EADDRNOTAVAIL);
      expect(
        sampleValue(body, 'tcpstate_bind_errors_total', { errno: 'EADDRINUSE', ...labels }),
      ).toBe(client.outcomes.bind.EADDRINUSE);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('without it, that collector fails alone with one log line naming the privilege', async () => {
    const exporter = await start(UNIT);
    const body = await waitFor(
      async () => {
        const text = await (await fetch(`${exporter.url}/metrics`)).text();
        return sampleValue(text, 'tcpstate_collector_success', { collector: 'sockets' }) ===
          undefined
          ? undefined
          : text;
      },
      { timeoutMs: 10_000, intervalMs: 100, describe: () => exporter.daemon.output() },
    );
    expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'connect-errors' })).toBe(
      0,
    );
    expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'sockets' })).toBe(1);
    const failing = exporter.logLines().filter((line) => line.collector === 'connect-errors');
    expect(failing.map((line) => line.level)).toEqual(['error']);
    expect(String(failing[0]?.error)).toMatch(/EACCES|EROFS|needs CAP_SYS_ADMIN/);
  }, 60_000);
});
