/**
 * deploy/compose: `docker-compose config` accepts the stack, every file it mounts exists,
 * promtool and amtool accept the Prometheus and Alertmanager configs, and the services
 * agree on the addresses they use to reach each other.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfig } from '../../mixin/config.js';
import { RULE_PATHS } from '../../mixin/outputs.js';
import { EXPORTER_FLAGS } from '../../src/config/flags.js';
import { daemonConfig, readYamlDocuments, repoRoot } from '../../testkit/deploy/deploy-config.js';
import { canRun } from '../../testkit/kernel/capabilities.js';

const composeFile = 'deploy/compose/docker-compose.yml';

interface Service {
  image?: string;
  build?: { context: string };
  network_mode?: string;
  read_only?: boolean;
  user?: string;
  volumes?: string[];
  command?: string[];
  environment?: Record<string, string>;
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** `docker-compose config` output: relative paths resolved, volumes in short syntax. */
function composeConfig(): { services: Record<string, Service>; volumes?: Record<string, unknown> } {
  const result = spawnSync('docker-compose', ['-f', composeFile, 'config'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`docker-compose config: ${result.stderr}`);
  return parse(result.stdout);
}

function mounts(service: Service | undefined): Mount[] {
  return (service?.volumes ?? []).map((entry) => {
    const [source = '', target = '', mode = 'rw'] = entry.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

function flagValue(command: readonly string[] | undefined, flag: string): string | undefined {
  const prefix = `--${flag}=`;
  return command?.find((argument) => argument.startsWith(prefix))?.slice(prefix.length);
}

function runTool(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  expect(result.status, `${command} ${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
}

describe.skipIf(
  !canRun('compose stack checks', { commands: ['docker-compose', 'promtool', 'amtool'] }),
)('compose stack', () => {
  let config: ReturnType<typeof composeConfig>;
  let exporter: Service | undefined;
  let prometheus: Service | undefined;
  let alertmanager: Service | undefined;
  let grafana: Service | undefined;
  const exporterConfig = () => daemonConfig(exporter?.command ?? []);

  beforeAll(() => {
    config = composeConfig();
    ({ exporter, prometheus, alertmanager, grafana } = config.services);
  });

  it('has the four services, each image pinned to a version', () => {
    expect(Object.keys(config.services).sort()).toEqual([
      'alertmanager',
      'exporter',
      'grafana',
      'prometheus',
    ]);
    for (const [name, service] of Object.entries(config.services)) {
      const tag = service.image?.split(':')[1];
      expect(tag, name).toMatch(/^v?\d+\.\d+\.\d+$|^local$/);
    }
  });

  it('mounts only files and directories that exist, and only declared named volumes', () => {
    for (const [name, service] of Object.entries(config.services)) {
      for (const mount of mounts(service)) {
        if (mount.source.startsWith('/')) {
          expect(existsSync(mount.source), `${name}: ${mount.source}`).toBe(true);
        } else {
          expect(Object.keys(config.volumes ?? {}), `${name}: ${mount.source}`).toContain(
            mount.source,
          );
        }
      }
    }
  });

  it('builds the exporter from the repository Dockerfile', () => {
    expect(exporter?.build?.context).toBe(repoRoot);
    expect(existsSync(join(repoRoot, 'Dockerfile'))).toBe(true);
  });

  it('runs the exporter on the host network, read-only, on the host /proc, every namespace too', () => {
    expect(exporter?.network_mode).toBe('host');
    expect(exporter?.read_only).toBe(true);
    // Root for the netns collector's two capabilities, every other one dropped
    // (test/deploy/netns-capabilities.test.ts).
    expect(exporter?.user).toBe('0:0');
    expect(exporter?.command).toContain('--collector.netns');
    expect(mounts(exporter)).toContainEqual({
      source: '/proc',
      target: exporterConfig().procfsRoot,
      readOnly: true,
    });
  });

  it('points Prometheus at its config, which loads the generated rules as mounted', () => {
    const configPath = flagValue(prometheus?.command, 'config.file');
    const configMount = mounts(prometheus).find((mount) => mount.target === configPath);
    expect(configMount?.source).toBe(resolve(repoRoot, 'deploy/compose/prometheus.yml'));
    const prometheusConfig = readYamlDocuments('deploy/compose/prometheus.yml')[0] as {
      rule_files: string[];
    };
    expect(
      prometheusConfig.rule_files.map((file) => resolve(dirname(configMount?.source ?? ''), file)),
    ).toEqual(RULE_PATHS.map((path) => resolve(repoRoot, path)));
    for (const ruleFile of prometheusConfig.rule_files) {
      // The same relative path must name the same file on the host and in the container.
      const inContainer = posix.resolve(posix.dirname(configPath ?? ''), ruleFile);
      const onHost = resolve(dirname(configMount?.source ?? ''), ruleFile);
      expect(mounts(prometheus)).toContainEqual({
        source: onHost,
        target: inContainer,
        readOnly: true,
      });
    }
  });

  it('scrapes the exporter as the job the alerts select, and alerts to the Alertmanager', () => {
    const prometheusConfig = readYamlDocuments('deploy/compose/prometheus.yml')[0] as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    const job = prometheusConfig.scrape_configs.find(
      (scrape) => scrape.job_name === defaultConfig.jobName,
    );
    const listen = exporterConfig().listenAddress;
    expect(job?.static_configs.flatMap((entry) => entry.targets)).toEqual([
      `${listen.host}:${listen.port}`,
    ]);
    expect(listen.port).toBe(Number(EXPORTER_FLAGS.listenAddress.default.split(':').at(-1)));
    expect(
      prometheusConfig.alerting.alertmanagers.flatMap((entry) =>
        entry.static_configs.flatMap((staticConfig) => staticConfig.targets),
      ),
    ).toEqual([flagValue(alertmanager?.command, 'web.listen-address')]);
  });

  it('provisions Grafana with that Prometheus and the generated dashboards', () => {
    const provisioning = mounts(grafana).find(
      (mount) => mount.target === '/etc/grafana/provisioning',
    );
    expect(provisioning?.source).toBe(resolve(repoRoot, 'deploy/compose/grafana/provisioning'));
    const datasources = readYamlDocuments(
      'deploy/compose/grafana/provisioning/datasources/prometheus.yml',
    )[0] as { datasources: { type: string; url: string }[] };
    expect(datasources.datasources).toMatchObject([
      { type: 'prometheus', url: `http://${flagValue(prometheus?.command, 'web.listen-address')}` },
    ]);
    const providers = readYamlDocuments(
      'deploy/compose/grafana/provisioning/dashboards/tcpstate.yml',
    )[0] as { providers: { options: { path: string } }[] };
    const dashboardsMount = mounts(grafana).find(
      (mount) => mount.target === providers.providers[0]?.options.path,
    );
    expect(dashboardsMount?.source).toBe(resolve(repoRoot, 'mixin/dashboards_out'));
    const dashboards = readdirSync(dashboardsMount?.source ?? '').filter((file) =>
      file.endsWith('.json'),
    );
    expect(dashboards.length).toBeGreaterThan(0);
  });

  it('passes promtool check config, rules included', () => {
    runTool('promtool', ['check', 'config', 'deploy/compose/prometheus.yml']);
  });

  it('passes amtool check-config', () => {
    runTool('amtool', ['check-config', 'deploy/compose/alertmanager.yml']);
  });
});
