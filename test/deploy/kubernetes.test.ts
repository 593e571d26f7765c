/**
 * deploy/kubernetes: every manifest validated against the Kubernetes and prometheus-operator
 * schemas, cross-checked against each other (selectors, ports, probes), against the CLI's
 * own flag parser, and the PrometheusRule checked for drift from the generated rules file.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { Namespace, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { RULE_PATHS } from '../../mixin/outputs.js';
import { PROMETHEUS_RULE_PATH, renderPrometheusRule } from '../../scripts/gen-k8s-rules.js';
import { EXPORTER_FLAGS } from '../../src/config/flags.js';
import { daemonConfig, readYamlDocuments, repoRoot } from '../../testkit/deploy/deploy-config.js';

const folder = 'deploy/kubernetes';

interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
}

const kustomization = readYamlDocuments(`${folder}/kustomization.yaml`)[0] as Kustomization;
const resources = kustomization.resources ?? [];

type Manifest = { apiVersion?: string; kind?: string };
const documents = resources.flatMap((file) =>
  readYamlDocuments(`${folder}/${file}`).map((document) => ({ file, document })),
);

function one<T>(kind: string, model: new (data: never) => T): T {
  const found = documents.filter(({ document }) => (document as Manifest).kind === kind);
  expect(found.length, `one ${kind}`).toBe(1);
  return new model(found[0]?.document as never);
}

const daemonSet = one('DaemonSet', DaemonSet);
const service = one('Service', Service);
const serviceMonitor = one('ServiceMonitor', ServiceMonitor);
const prometheusRule = one('PrometheusRule', PrometheusRule);
const namespace = one('Namespace', Namespace);
const podSpec = daemonSet.spec?.template.spec;
const container = podSpec?.containers[0];
const packageVersion = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
).version;

describe('kustomization', () => {
  it('lists every manifest in the folder, and each listed file exists', () => {
    const manifests = readdirSync(join(repoRoot, folder))
      .filter((file) => /\.ya?ml$/.test(file) && file !== 'kustomization.yaml')
      .sort();
    expect([...resources].sort()).toEqual(manifests);
  });

  it('holds only the kinds it is meant to, each validating against its schema', () => {
    const models = {
      Namespace,
      DaemonSet,
      Service,
      ServiceMonitor,
      PrometheusRule,
    } as const;
    for (const { file, document } of documents) {
      const kind = (document as Manifest).kind as keyof typeof models;
      expect(Object.keys(models), `${file}: kind ${kind}`).toContain(kind);
      expect(() => new models[kind](document as never).validate(), file).not.toThrow();
    }
  });

  it('puts everything in the namespace it creates, which admits hostNetwork pods', () => {
    expect(kustomization.namespace).toBe(namespace.metadata?.name);
    expect(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('names the image in one place, tagged with the package version', () => {
    const [image] = kustomization.images ?? [];
    expect(kustomization.images?.length).toBe(1);
    expect(image?.name).toBe(container?.image);
    expect(image?.newTag).toBe(packageVersion);
  });

  it('adds the Prometheus selection labels without touching selectors', () => {
    const labels = kustomization.labels ?? [];
    expect(labels.length).toBeGreaterThan(0);
    for (const entry of labels) expect(entry.includeSelectors).toBe(false);
  });
});

describe('DaemonSet', () => {
  const config = () => daemonConfig(container?.args ?? []);

  it('runs on the node network with the host /proc mounted read-only where the flag points', () => {
    expect(podSpec?.hostNetwork).toBe(true);
    expect(podSpec?.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(podSpec?.hostPID).not.toBe(true);
    const mount = container?.volumeMounts?.find((entry) => entry.mountPath === config().procfsRoot);
    expect(mount?.readOnly).toBe(true);
    const volume = podSpec?.volumes?.find((entry) => entry.name === mount?.name);
    expect(volume?.hostPath?.path).toBe('/proc');
    expect(config().procfsRoot).toBe('/host/proc');
  });

  it('listens on the default port on every address, as its container port', () => {
    const defaultPort = Number(EXPORTER_FLAGS.listenAddress.default.split(':').at(-1));
    expect(config().listenAddress).toEqual({ host: undefined, port: defaultPort });
    expect(container?.ports).toEqual([
      { name: 'metrics', containerPort: defaultPort, protocol: 'TCP' },
    ]);
  });

  it('probes /-/ready and /-/healthy on a port the container declares', () => {
    expect(container?.readinessProbe?.httpGet?.path).toBe('/-/ready');
    expect(container?.livenessProbe?.httpGet?.path).toBe('/-/healthy');
    const names = container?.ports?.map((port) => port.name);
    for (const probe of [container?.readinessProbe, container?.livenessProbe]) {
      expect(names).toContain(probe?.httpGet?.port);
    }
  });

  it('requests and limits CPU and memory', () => {
    for (const kind of ['requests', 'limits'] as const) {
      expect(Object.keys(container?.resources?.[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
    }
  });

  it('runs as root with no escalation, a read-only root and no capability but the netns ones', () => {
    const pod = podSpec?.securityContext;
    // Kubernetes gives a non-root container no ambient capabilities: root is what keeps the
    // two the netns collector needs (test/deploy/netns-capabilities.test.ts checks which).
    expect(pod?.runAsUser).toBe(0);
    expect(pod?.runAsNonRoot).toBe(false);
    expect(pod?.seccompProfile?.type).toBe('RuntimeDefault');
    const own = container?.securityContext;
    expect(own?.allowPrivilegeEscalation).toBe(false);
    expect(own?.readOnlyRootFilesystem).toBe(true);
    expect(own?.privileged).not.toBe(true);
    expect(own?.capabilities?.drop).toEqual(['ALL']);
    expect([...(own?.capabilities?.add ?? [])].sort()).toEqual(['SYS_ADMIN', 'SYS_PTRACE']);
    expect(podSpec?.automountServiceAccountToken).toBe(false);
  });

  it("reads every pod's namespace, with the node's /var/log read-only where --path.pod-logs points", () => {
    expect(container?.args).toContain('--collector.netns');
    const podLogs = container?.args
      ?.find((arg) => arg.startsWith('--path.pod-logs='))
      ?.slice('--path.pod-logs='.length);
    expect(podLogs).toBe('/host/var/log');
    const mount = container?.volumeMounts?.find((entry) => entry.mountPath === podLogs);
    expect(mount?.readOnly).toBe(true);
    const volume = podSpec?.volumes?.find((entry) => entry.name === mount?.name);
    expect(volume?.hostPath?.path).toBe('/var/log');
  });

  it('tolerates every taint so every node is covered', () => {
    expect(podSpec?.tolerations).toContainEqual({ operator: 'Exists' });
  });

  it('selects its own pods', () => {
    const labels = daemonSet.spec?.template.metadata?.labels ?? {};
    const selector = Object.entries(daemonSet.spec?.selector.matchLabels ?? {});
    expect(selector.length).toBeGreaterThan(0);
    for (const [key, value] of selector) expect(labels[key], key).toBe(value);
  });
});

describe('Service and ServiceMonitor', () => {
  it('is headless and reaches the DaemonSet pods on the metrics port', () => {
    expect(service.spec?.clusterIP).toBe('None');
    const podLabels = daemonSet.spec?.template.metadata?.labels ?? {};
    const selector = Object.entries(service.spec?.selector ?? {});
    expect(selector.length).toBeGreaterThan(0);
    for (const [key, value] of selector) expect(podLabels[key], key).toBe(value);
    const port = service.spec?.ports?.[0];
    expect(port?.name).toBe('metrics');
    expect(port?.targetPort).toBe(container?.ports?.[0]?.name);
    expect(port?.port).toBe(container?.ports?.[0]?.containerPort);
  });

  it('scrapes that Service on the telemetry path as the job the alerts select', () => {
    const serviceLabels = service.metadata?.labels ?? {};
    const selector = Object.entries(serviceMonitor.spec.selector.matchLabels ?? {});
    expect(selector.length).toBeGreaterThan(0);
    for (const [key, value] of selector) expect(serviceLabels[key], key).toBe(value);
    const [endpoint] = serviceMonitor.spec.endpoints ?? [];
    expect(endpoint?.port).toBe(service.spec?.ports?.[0]?.name);
    expect(endpoint?.path).toBe(EXPORTER_FLAGS.telemetryPath.default);
    expect(endpoint?.relabelings).toContainEqual({
      action: 'replace',
      targetLabel: 'job',
      replacement: defaultConfig.jobName,
    });
    expect(defaultConfig.selector).toBe(`job="${defaultConfig.jobName}"`);
  });
});

describe('PrometheusRule', () => {
  it('is exactly the generated rule files wrapped (no drift)', () => {
    const texts = RULE_PATHS.map((path) => readFileSync(join(repoRoot, path), 'utf8'));
    const committed = readFileSync(join(repoRoot, PROMETHEUS_RULE_PATH), 'utf8');
    expect(committed).toBe(renderPrometheusRule(texts));
    const groups = RULE_PATHS.flatMap(
      (path) => (readYamlDocuments(path)[0] as { groups: unknown[] }).groups,
    );
    expect(prometheusRule.spec.groups).toEqual(groups);
  });

  it('the generator script agrees with --check', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/gen-k8s-rules.ts', '--check'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
  });

  it('refuses a rules file without groups', () => {
    expect(() => renderPrometheusRule(['groups: []\n'])).toThrow(/no rule groups/);
    expect(() => renderPrometheusRule(['groups: [{name: a, rules: []}]\n', ''])).toThrow(
      /prometheus_alerts\.yaml has no rule groups/,
    );
  });
});
