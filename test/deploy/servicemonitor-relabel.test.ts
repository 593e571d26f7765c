/**
 * deploy/kubernetes/servicemonitor.yaml through prometheus-operator's relabelling, in a real
 * Prometheus evaluating the generated rules: the operator gives every target the exporter
 * pod's own `pod`, `namespace` and `container`, and the exporter labels each pod's series
 * with that pod's. With the shipped `honorLabels: true` a pod alert names the pod; the same
 * endpoint without it (a second job) renames the pod's labels `exported_*`.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { readYamlDocuments } from '../../testkit/deploy/deploy-config.js';
import {
  type DiscoveredTarget,
  operatorScrapeJob,
  type ServiceMonitorEndpoint,
} from '../../testkit/deploy/operator-scrape-config.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { rulesWithShortFor } from '../../testkit/prometheus/alert-pipeline.js';
import {
  type PromSample,
  type RunningPrometheus,
  startPrometheus,
} from '../../testkit/prometheus/prometheus.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const [manifest] = readYamlDocuments('deploy/kubernetes/servicemonitor.yaml') as {
  spec: { endpoints?: ServiceMonitorEndpoint[] };
}[];
const [endpoint = {}] = manifest?.spec.endpoints ?? [];

/** The pod whose namespace runs out of ports, as the exporter labels its series. */
const POD = {
  netns: '4026532301',
  pod: 'web-7d9f8-x2x5q',
  namespace: 'shop',
  container: 'php-fpm',
};
const DESTINATION = { local_address: '10.0.0.5', remote_address: '10.0.0.9', remote_port: '9000' };
/** The exporter's own pod, as kubernetes_sd reports it. */
const EXPORTER_POD: Omit<DiscoveredTarget, 'address'> = {
  namespace: 'tcpstate',
  service: 'tcpstate-exporter',
  pod: 'tcpstate-exporter-x7k2p',
  container: 'tcpstate-exporter',
  node: 'node-a',
  portName: 'metrics',
};
const UNHONORED_JOB = 'unhonored';

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(',');
}

/** The node's own namespace: its inode, no owner. */
const NODE = { netns: '4026531840' };

/** A pod's namespace with every usable port toward one destination blocked; the node's fine. */
const EXPOSITION = [
  '# TYPE tcpstate_ephemeral_ports_used gauge',
  `tcpstate_ephemeral_ports_used{${labelText({ ...POD, ...DESTINATION })}} 1000`,
  `tcpstate_ephemeral_ports_used{${labelText({ ...NODE, ...DESTINATION })}} 10`,
  '# TYPE tcpstate_ephemeral_ports_usable gauge',
  `tcpstate_ephemeral_ports_usable{${labelText(POD)}} 1000`,
  `tcpstate_ephemeral_ports_usable{${labelText(NODE)}} 1000`,
  '',
].join('\n');

describe('shipped ServiceMonitor', () => {
  it('honours the labels the exporter sets', () => {
    expect(endpoint.honorLabels).toBe(true);
  });
});

describe.skipIf(
  !canRun('the ServiceMonitor relabelling in a real Prometheus', { commands: ['prometheus'] }),
)('ServiceMonitor relabelling, as prometheus-operator renders it', () => {
  let exporter: Server;
  let prometheus: RunningPrometheus;
  let address = '';

  beforeAll(async () => {
    exporter = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(EXPOSITION);
    });
    await new Promise<void>((done) => exporter.listen(0, '127.0.0.1', done));
    const listening = exporter.address();
    address = `127.0.0.1:${typeof listening === 'object' && listening !== null ? listening.port : 0}`;
    const target = { ...EXPORTER_POD, address };
    const unhonored: ServiceMonitorEndpoint = {
      ...endpoint,
      honorLabels: false,
      relabelings: (endpoint.relabelings ?? []).map((relabel) =>
        relabel.targetLabel === 'job' ? { ...relabel, replacement: UNHONORED_JOB } : relabel,
      ),
    };
    prometheus = await startPrometheus({
      config: {
        rule_files: ['rules.yml'],
        scrape_configs: [
          operatorScrapeJob({ jobName: 'serviceMonitor/tcpstate/shipped/0', endpoint, target }),
          operatorScrapeJob({
            jobName: 'serviceMonitor/tcpstate/unhonored/0',
            endpoint: unhonored,
            target,
          }),
        ],
      },
      files: { 'rules.yml': rulesWithShortFor() },
    });
    await prometheus.waitForTargetsUp({ scrapes: 2, timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((done) => exporter?.close(done));
  });

  it('pages naming the pod whose ports ran out, not the exporter’s pod', async () => {
    const alert = await waitFor(
      async () =>
        (await prometheus.alerts()).find(
          (candidate) =>
            candidate.labels.alertname === 'TcpStateEphemeralPortsExhausted' &&
            candidate.state === 'firing',
        ),
      { timeoutMs: 30_000, describe: () => prometheus.output().slice(-2000) },
    );
    expect(alert.labels).toMatchObject({
      job: defaultConfig.jobName,
      instance: address,
      ...POD,
      ...DESTINATION,
      // The operator's own target labels that the exporter does not set stay.
      service: EXPORTER_POD.service,
      endpoint: EXPORTER_POD.portName,
      node: EXPORTER_POD.node,
    });
    expect(Object.keys(alert.labels).filter((name) => name.startsWith('exported_'))).toEqual([]);
    expect(alert.annotations.description).toMatch(
      new RegExp(
        `^pod ${POD.namespace}/${POD.pod} \\(container ${POD.container}\\) on ${address}:`,
      ),
    );
  }, 60_000);

  it('without honorLabels the pod’s labels would be the exporter’s', async () => {
    const result = (
      await prometheus.query(
        `tcpstate_ephemeral_ports_usable{job="${UNHONORED_JOB}",netns="${POD.netns}"}`,
      )
    ).result as readonly PromSample[];
    expect(result[0]?.metric).toMatchObject({
      pod: EXPORTER_POD.pod,
      namespace: EXPORTER_POD.namespace,
      container: EXPORTER_POD.container,
      exported_pod: POD.pod,
      exported_namespace: POD.namespace,
      exported_container: POD.container,
    });
  });
});
