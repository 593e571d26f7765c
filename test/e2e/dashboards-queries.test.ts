/**
 * Every query of every committed dashboard, and every recording rule, against a real
 * Prometheus that loads the generated rules and scrapes two instances of the real exporter
 * in a network namespace with real traffic: a server on a non-loopback address (TIME_WAIT
 * there blocks connect()) and one on loopback (reusable TIME_WAIT). Variables are resolved
 * the way Grafana would (their queries run first). Each query must return data; a
 * host's panel must show that host only, and a fleet panel every host.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { DASHBOARD_PATHS, RULES_PATH } from '../../mixin/outputs.js';
import { RECORDED } from '../../mixin/recording.js';
import { runExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import {
  type ExporterTarget,
  startExporterTarget,
} from '../../testkit/prometheus/exporter-target.js';
import {
  type PromSample,
  type RunningPrometheus,
  startPrometheus,
} from '../../testkit/prometheus/prometheus.js';
import { type Daemon, startDaemon, waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const LOAD_SCRIPT = join(repoRoot, 'testkit/programs/doctor-load.ts');
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

/** What Grafana puts in for its built-in interval variables on a short time range. */
const BUILT_INS: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string;
  readonly includeAll?: boolean;
  readonly allValue?: string;
}
interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly instant?: boolean;
}
interface Panel {
  readonly type: string;
  readonly title?: string;
  readonly targets?: readonly Target[];
}
interface Dashboard {
  readonly templating: { readonly list: readonly Variable[] };
  readonly panels: readonly Panel[];
}

function substitute(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, plain?: string, braced?: string) => {
    const name = plain ?? braced ?? '';
    return values.get(name) ?? BUILT_INS[name] ?? whole;
  });
}

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
      const daemon = startDaemon(
        process.execPath,
        [
          '--import',
          'tsx',
          LOAD_SCRIPT,
          'serve',
          server.address,
          String(server.port),
          String(LOAD_SECONDS),
        ],
        { netns: ns, cwd: repoRoot },
      );
      daemons.push(daemon);
      await waitFor(() => (daemon.output().includes('listening') ? true : undefined), {
        timeoutMs: 20_000,
        describe: () => `server did not start:\n${daemon.output()}`,
      });
      // A few connections a second, each closed by the client: TIME_WAIT toward the server.
      daemons.push(
        startDaemon(
          process.execPath,
          [
            '--import',
            'tsx',
            LOAD_SCRIPT,
            'churn',
            server.address,
            String(server.port),
            String(LOAD_SECONDS),
            '20',
          ],
          { netns: ns, cwd: repoRoot },
        ),
      );
    }
    for (const port of EXPORTER_PORTS) {
      exporters.push(await startExporterTarget({ procfs: '/proc', netns: ns, port }));
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
      files: { 'rules.yml': readFileSync(join(repoRoot, RULES_PATH), 'utf8') },
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

  // The pods dashboard reads the netns collector's series of pods' namespaces:
  // test/e2e/alerts-pod-exhaustion.test.ts checks it against a namespace laid out as a pod.
  const nodeDashboards = Object.entries(DASHBOARD_PATHS).filter(([name]) => name !== 'pods');
  for (const [name, path] of nodeDashboards) {
    it(`${name}: every variable and panel query returns data, per host or for the fleet`, async () => {
      const board = JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as Dashboard;
      const values = new Map<string, string>();
      const problems: string[] = [];

      for (const variable of board.templating.list) {
        if (variable.type !== 'query') continue;
        const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.query ?? '');
        if (match?.[1] === undefined || match[2] === undefined) {
          problems.push(`variable ${variable.name}: unsupported query ${variable.query}`);
          continue;
        }
        const found = await prometheus.api<string[]>(`/api/v1/label/${match[2]}/values`, {
          'match[]': substitute(match[1], values),
        });
        if (found.length === 0) problems.push(`variable ${variable.name}: no values`);
        if (variable.name === 'instance' && found.length !== EXPORTER_PORTS.length)
          problems.push(`variable instance: ${found.join(', ')}`);
        // "All" where the variable offers it, otherwise the first value (one host).
        values.set(
          variable.name,
          variable.includeAll ? (variable.allValue ?? '.*') : (found[0] ?? ''),
        );
      }

      let queries = 0;
      const now = Math.floor(Date.now() / 1000);
      for (const panel of board.panels) {
        const fleet = /^Fleet\b/.test(panel.title ?? '');
        for (const target of panel.targets ?? []) {
          queries += 1;
          const where = `${panel.title} [${target.refId}]`;
          const expr = substitute(target.expr, values);
          if (expr.includes('$')) {
            problems.push(`${where}: unresolved variable in ${expr}`);
            continue;
          }
          try {
            const result = target.instant
              ? await prometheus.query(expr)
              : await prometheus.queryRange(expr, now - 30, now, 1);
            const samples = result.result as readonly PromSample[];
            if (samples.length === 0) {
              if (!HOST_ONLY.test(expr)) problems.push(`${where}: no data for ${expr}`);
              continue;
            }
            const instances = new Set(samples.map((sample) => sample.metric.instance));
            if (fleet && instances.size !== EXPORTER_PORTS.length)
              problems.push(`${where}: fleet panel shows ${[...instances].join(', ')}`);
            if (!fleet && (instances.size !== 1 || !instances.has(values.get('instance'))))
              problems.push(`${where}: shows ${[...instances].join(', ')}, not the selected host`);
          } catch (error) {
            problems.push(`${where}: ${(error as Error).message}`);
          }
        }
      }
      expect(queries).toBeGreaterThan(5);
      expect(problems).toEqual([]);
    }, 180_000);
  }
});
