/**
 * A real Prometheus scraping the exporter over TLS with a client certificate and basic auth
 * (its own tls_config and basic_auth), next to jobs with a wrong password and without a
 * certificate, which must be refused.
 */
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { makeTlsFixtures, type TlsFixtures } from '../../testkit/exporter/tls-fixtures.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  type PromSample,
  type RunningPrometheus,
  startPrometheus,
} from '../../testkit/prometheus/prometheus.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

describe.skipIf(
  !canRun('Prometheus scraping over TLS with basic auth', { commands: ['prometheus', 'openssl'] }),
)('tcpstate-exporter scraped over TLS with basic auth', () => {
  let fixtures: TlsFixtures;
  let exporter: RunningExporter | undefined;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    fixtures = makeTlsFixtures();
    const webConfig = fixtures.writeConfig({
      tls_server_config: {
        cert_file: 'server.pem',
        key_file: 'server.key',
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: 'ca.pem',
      },
      basic_auth_users: { prometheus: bcrypt.hashSync('scrape-secret', 10) },
    });
    exporter = await startExporter([`--web.config.file=${webConfig}`, '--sample.interval=1s']);
    const target = exporter.url.replace('http://', '');
    const job = (name: string, password: string, withCertificate: boolean) => ({
      job_name: name,
      scheme: 'https',
      tls_config: {
        ca_file: fixtures.path('ca.pem'),
        ...(withCertificate
          ? { cert_file: fixtures.path('client.pem'), key_file: fixtures.path('client.key') }
          : {}),
      },
      basic_auth: { username: 'prometheus', password },
      static_configs: [{ targets: [target] }],
    });
    prometheus = await startPrometheus({
      config: {
        scrape_configs: [
          job('tcpstate', 'scrape-secret', true),
          job('wrong-password', 'guess', true),
          job('no-certificate', 'scrape-secret', false),
        ],
      },
    });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.daemon.stop();
    fixtures?.remove();
  });

  async function upByJob(): Promise<Record<string, string>> {
    const result = await prometheus?.query('up');
    return Object.fromEntries(
      ((result?.result ?? []) as readonly PromSample[]).map((s) => [s.metric.job, s.value?.[1]]),
    );
  }

  it('scrapes with the right certificate and password, and is refused otherwise', async () => {
    const up = await waitFor(
      async () => {
        const byJob = await upByJob();
        return Object.keys(byJob).length === 3 && byJob.tcpstate === '1' ? byJob : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, describe: () => prometheus?.output() ?? '' },
    );
    expect(up).toEqual({ tcpstate: '1', 'wrong-password': '0', 'no-certificate': '0' });

    const targets = await prometheus?.api<{
      activeTargets: { labels: Record<string, string>; lastError: string }[];
    }>('/api/v1/targets', { state: 'active' });
    const lastError = (name: string) =>
      targets?.activeTargets.find((target) => target.labels.job === name)?.lastError ?? '';
    expect(lastError('tcpstate')).toBe('');
    expect(lastError('wrong-password')).toContain('401');
    expect(lastError('no-certificate')).not.toBe('');

    const sockets = await prometheus?.query('count(tcpstate_sockets{job="tcpstate"})');
    const [count] = (sockets?.result ?? []) as readonly PromSample[];
    expect(count?.value?.[1]).toBe('22');
  });
});
