import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { DASHBOARD_PATHS } from '../../mixin/outputs.js';
import { RECORDED } from '../../mixin/recording.js';
import { runExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { loadSaid, startLoad } from '../../testkit/kernel/tcp-load.js';
import { mixinRulesText } from '../../testkit/mixin/rule-files.js';
import { checkDashboardQueries } from '../../testkit/prometheus/dashboard-queries.js';
import {
  type ExporterTarget,
  startExporterTarget,
} from '../../testkit/prometheus/exporter-target.js';
import {
  type PromSample,
  type RunningPrometheus,
  startPrometheus,
} from '../../testkit/prometheus/prometheus.js';
import type { Daemon } from '../../testkit/prometheus/prometheus-daemon.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const SERVERS = [
  { address: '198.18.93.1', port: 8080 },
  { address: '127.0.0.1', port: 9000 },
] as const;
/** Long enough for the whole test; every process ends by itself. */
const LOAD_SECONDS = 150;
const EXPORTER_PORTS = [10120, 10121] as const;

/**
 * net.ipv4.tcp_mem and tcp_max_orphans are host-wide: /proc/sys shows them in the host's
 * network namespace only, so inside this namespace their series, and what is computed from
 * them, are absent. The test checks that this is the reason, and that the exporter in the
 * host namespace serves them.
 */
const HOST_ONLY_SYSCTLS = ['net.ipv4.tcp_mem', 'net.ipv4.tcp_max_orphans'] as const;
const HOST_ONLY = /tcp_mem|tcp_max_orphans|instance:tcpstate_orphans:ratio/;
/**
 * Series that exist only for what this namespace does not hold: source-NATed flows
 * (test/snapshot/snat-real-kernel.test.ts makes them), sockets stuck in CLOSE_WAIT past
 * --collector.ports.close-wait-stuck-after (test/snapshot/close-wait-stuck.test.ts) and
 * failed connect() or bind() calls (test/e2e/alerts-connect-errors.test.ts).
 */
const NOT_HELD_HERE =
  /tcpstate_snat_ports_used|tcpstate_close_wait_stuck_sockets|tcpstate_connect_errors_total|tcpstate_bind_errors_total/;
const MAY_BE_EMPTY = new RegExp(`${HOST_ONLY.source}|${NOT_HELD_HERE.source}`);

describe.skipIf(
  !canRun('dashboard and recording-rule queries against Prometheus', {
    netns: true,
    commands: ['prometheus'],
  }),
)('dashboard panel and recording-rule queries, two exporters in a namespace', () => {
  const lab = new NetnsLab('tsd');
  let ns: string;
  const daemons: Daemon[] = [];
  const exporters: ExporterTarget[] = [];
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    ns = lab.addNamespace('dash');
    lab.addAddress(ns, 'lo', `${SERVERS[0].address}/32`);
    for (const server of SERVERS) {
      const daemon = startLoad(ns, 'serve', server, String(LOAD_SECONDS));
      daemons.push(daemon);
      await loadSaid(daemon, 'listening');
      // A few connections a second, each closed by the client: TIME_WAIT toward the server.
      daemons.push(startLoad(ns, 'churn', server, String(LOAD_SECONDS), '20'));
    }
    for (const port of EXPORTER_PORTS) {
      exporters.push(
        await startExporterTarget({
          procfs: '/proc',
          netns: ns,
          port,
          // The conntrack and counted-failures rows of the overview read them; off by default.
          args: ['--collector.conntrack', '--collector.snat', '--collector.connect-errors'],
        }),
      );
    }
    prometheus = await startPrometheus({
      netns: ns,
      config: {
        rule_files: ['rules.yml'],
        scrape_configs: [
          {
            job_name: defaultConfig.jobName,
            static_configs: [{ targets: exporters.map((exporter) => exporter.address) }],
          },
        ],
      },
      files: { 'rules.yml': mixinRulesText() },
    });
    // rate() over the substituted 1m needs a few samples per series.
    await prometheus.waitForTargetsUp({ scrapes: 5, timeoutMs: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const exporter of exporters) await exporter.stop();
    for (const daemon of daemons) await daemon.stop();
    await lab.close();
  });

  it('the host-only sysctls are absent in the namespace, and served in the host namespace', async () => {
    for (const name of HOST_ONLY_SYSCTLS) {
      const path = `/proc/sys/${name.replaceAll('.', '/')}`;
      const seen = lab.exec(ns, 'sh', ['-c', `test -e ${path} && echo present || echo absent`]);
      expect(seen.trim(), path).toBe('absent');
    }
    const host = await runExporter(['--once', '--path.procfs=/proc', '--log.level=error']);
    for (const name of [
      'net.ipv4.tcp_mem.pressure',
      'net.ipv4.tcp_mem.max',
      'net.ipv4.tcp_max_orphans',
    ]) {
      expect(host.stdout).toMatch(
        new RegExp(`^tcpstate_sysctl\\{name="${name.replaceAll('.', '\\.')}"\\} \\d+$`, 'm'),
      );
    }
    expect(host.stdout).toMatch(/^tcpstate_sockstat_sockets\{family="ipv4",kind="orphan"\} \d+$/m);
  }, 60_000);

  it('every recording rule records for both exporters', async () => {
    const problems: string[] = [];
    for (const record of Object.values(RECORDED)) {
      if (HOST_ONLY.test(record)) continue;
      const result = await prometheus.query(
        `count by (instance) (${record}{job="${defaultConfig.jobName}"})`,
      );
      const instances = (result.result as readonly PromSample[]).map((s) => s.metric.instance);
      if (instances.length !== EXPORTER_PORTS.length)
        problems.push(`${record}: ${instances.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  // The pods dashboard reads the node's families for pods' namespaces:
  // test/e2e/alerts-pod-exhaustion.test.ts checks it against a namespace laid out as a pod.
  const nodeDashboards = Object.entries(DASHBOARD_PATHS).filter(([name]) => name !== 'pods');
  for (const [name, path] of nodeDashboards) {
    it(`${name}: every variable and panel query returns data, per host or for the fleet`, async () => {
      const { queries, problems } = await checkDashboardQueries(prometheus, join(repoRoot, path), {
        instances: EXPORTER_PORTS.length,
        mayBeEmpty: MAY_BE_EMPTY,
      });
      expect(queries).toBeGreaterThan(5);
      expect(problems).toEqual([]);
    }, 180_000);
  }
});
