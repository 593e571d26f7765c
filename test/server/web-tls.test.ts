/**
 * --web.config.file against real clients: curl and openssl s_client over loopback, for every
 * client_auth_type, passwords right and wrong, and reloads of certificates and users.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientAuthType } from '../../src/server/web-config.js';
import { type ServedApp, serveApp } from '../../testkit/exporter/exporter-app.js';
import { runExporter } from '../../testkit/exporter/exporter-cli.js';
import {
  curlStatus,
  makeTlsFixtures,
  runClient,
  type TlsFixtures,
} from '../../testkit/exporter/tls-fixtures.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const SERVER_TLS = { cert_file: 'server.pem', key_file: 'server.key' };

describe.skipIf(!canRun('TLS and basic auth with real clients', { commands: ['openssl', 'curl'] }))(
  'web config with real TLS clients',
  () => {
    let fixtures: TlsFixtures;
    const served: ServedApp[] = [];

    beforeAll(() => {
      fixtures = makeTlsFixtures();
    });
    afterEach(async () => {
      for (const one of served.splice(0)) await one.close();
    });
    afterAll(() => fixtures.remove());

    async function serve(
      config: Readonly<Record<string, unknown>>,
      name: string,
    ): Promise<ServedApp> {
      const one = await serveApp({ webConfigFile: fixtures.writeConfig(config, name) });
      served.push(one);
      return one;
    }

    /** openssl s_client's view of one handshake: did the server ask for a certificate, whose. */
    async function handshake(url: string, extra: readonly string[] = []) {
      const port = new URL(url).port;
      const result = await runClient(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-CAfile',
          fixtures.path('ca.pem'),
          '-msg',
          ...extra,
        ],
        'Q\n',
      );
      const cipher = /Cipher is (\S+)/.exec(result.stdout)?.[1];
      return {
        ok:
          cipher !== undefined &&
          cipher !== '(NONE)' &&
          result.stdout.includes('Verify return code: 0 (ok)'),
        certificateRequested: result.stdout.includes('CertificateRequest'),
        subject: /subject=.*CN ?= ?([\w-]+)/.exec(result.stdout)?.[1],
        cipher,
      };
    }

    // [type, status without a certificate, with the CA-signed one, with a self-signed one]
    const policies: [ClientAuthType, number, number, number][] = [
      ['NoClientCert', 200, 200, 200],
      ['RequestClientCert', 200, 200, 200],
      ['RequireAnyClientCert', 0, 200, 200],
      ['VerifyClientCertIfGiven', 200, 200, 0],
      ['RequireAndVerifyClientCert', 0, 200, 0],
    ];

    it.each(policies)(
      'client_auth_type %s: no certificate %i, CA-signed %i, self-signed %i',
      async (type, none, signed, rogue) => {
        const ca = type === 'NoClientCert' ? {} : { client_ca_file: 'ca.pem' };
        const { url } = await serve(
          { tls_server_config: { ...SERVER_TLS, client_auth_type: type, ...ca } },
          `${type}.yml`,
        );
        expect(await curlStatus(`${url}/metrics`, fixtures)).toBe(none);
        expect(await curlStatus(`${url}/metrics`, fixtures, { client: 'client' })).toBe(signed);
        expect(await curlStatus(`${url}/metrics`, fixtures, { client: 'rogue' })).toBe(rogue);
        const seen = await handshake(url);
        expect(seen.certificateRequested).toBe(type !== 'NoClientCert');
        expect(seen.subject).toBe('server-one');
      },
    );

    it('client_allowed_sans admits only certificates that carry one of them', async () => {
      const { url } = await serve(
        {
          tls_server_config: {
            ...SERVER_TLS,
            client_auth_type: 'RequireAndVerifyClientCert',
            client_ca_file: 'ca.pem',
            client_allowed_sans: ['scraper.test'],
          },
        },
        'sans.yml',
      );
      expect(await curlStatus(`${url}/metrics`, fixtures, { client: 'client' })).toBe(200);
      expect(await curlStatus(`${url}/metrics`, fixtures, { client: 'other-client' })).toBe(0);
    });

    it('min_version, max_version and cipher_suites bound what a client can negotiate', async () => {
      const tls13 = await serve(
        { tls_server_config: { ...SERVER_TLS, min_version: 'TLS13' } },
        'tls13.yml',
      );
      expect((await handshake(tls13.url, ['-tls1_2'])).ok).toBe(false);
      expect((await handshake(tls13.url, ['-tls1_3'])).ok).toBe(true);

      const tls12 = await serve(
        {
          tls_server_config: {
            ...SERVER_TLS,
            max_version: 'TLS12',
            cipher_suites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
          },
        },
        'tls12.yml',
      );
      expect((await handshake(tls12.url, ['-tls1_3'])).ok).toBe(false);
      const allowed = await handshake(tls12.url, [
        '-tls1_2',
        '-cipher',
        'ECDHE-ECDSA-AES128-GCM-SHA256',
      ]);
      expect(allowed.ok).toBe(true);
      expect(allowed.cipher).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
      expect(
        (await handshake(tls12.url, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384'])).ok,
      ).toBe(false);
    });

    it('basic auth: 401 with a Basic challenge unless the password is right, probes included', async () => {
      const { url } = await serve(
        {
          tls_server_config: SERVER_TLS,
          basic_auth_users: { alice: bcrypt.hashSync('right', 10) },
        },
        'auth.yml',
      );
      expect(await curlStatus(`${url}/metrics`, fixtures)).toBe(401);
      expect(await curlStatus(`${url}/metrics`, fixtures, { user: 'alice:wrong' })).toBe(401);
      expect(await curlStatus(`${url}/metrics`, fixtures, { user: 'mallory:right' })).toBe(401);
      expect(await curlStatus(`${url}/metrics`, fixtures, { user: 'alice:right' })).toBe(200);
      expect(await curlStatus(`${url}/`, fixtures, { user: 'alice:right' })).toBe(200);
      expect(await curlStatus(`${url}/api/page`, fixtures, { user: 'alice:right' })).toBe(200);
      expect(await curlStatus(`${url}/-/healthy`, fixtures)).toBe(401);
      expect(await curlStatus(`${url}/-/ready`, fixtures)).toBe(401);
      expect(await curlStatus(`${url}/-/healthy`, fixtures, { user: 'alice:right' })).toBe(200);
      const challenge = await runClient('curl', [
        '-sS',
        '-D',
        '-',
        '-o',
        '/dev/null',
        '--cacert',
        fixtures.path('ca.pem'),
        `${url}/metrics`,
      ]);
      expect(challenge.stdout).toMatch(/^www-authenticate: Basic\r?$/im);
      expect(challenge.stdout).toMatch(/^x-content-type-options: nosniff\r?$/im);
    });

    it('reloads the certificate and the users without a restart', async () => {
      copyFileSync(fixtures.path('server.pem'), fixtures.path('live.pem'));
      copyFileSync(fixtures.path('server.key'), fixtures.path('live.key'));
      const users = (password: string) => ({
        tls_server_config: { cert_file: 'live.pem', key_file: 'live.key' },
        basic_auth_users: { alice: bcrypt.hashSync(password, 4) },
      });
      const one = await serve(users('first'), 'reload.yml');
      expect((await handshake(one.url)).subject).toBe('server-one');
      expect(await curlStatus(`${one.url}/metrics`, fixtures, { user: 'alice:first' })).toBe(200);

      copyFileSync(fixtures.path('server2.key'), fixtures.path('live.key'));
      copyFileSync(fixtures.path('server2.pem'), fixtures.path('live.pem'));
      await waitFor(
        async () => ((await handshake(one.url)).subject === 'server-two' ? true : undefined),
        {
          timeoutMs: 10_000,
          intervalMs: 100,
          describe: () => 'the reloaded certificate (CN=server-two)',
        },
      );

      fixtures.writeConfig(users('second'), 'reload.yml');
      await waitFor(
        async () =>
          (await curlStatus(`${one.url}/metrics`, fixtures, { user: 'alice:second' })) === 200
            ? true
            : undefined,
        { timeoutMs: 10_000, intervalMs: 100, describe: () => 'the reloaded password' },
      );
      expect(await curlStatus(`${one.url}/metrics`, fixtures, { user: 'alice:first' })).toBe(401);
      expect(
        one.logLines().filter((line) => line.msg === 'web config reloaded').length,
      ).toBeGreaterThanOrEqual(2);
    });

    it('keeps the last good config when the file breaks, and logs the key at fault', async () => {
      const one = await serve(
        { tls_server_config: SERVER_TLS, basic_auth_users: { alice: bcrypt.hashSync('kept', 4) } },
        'broken.yml',
      );
      writeFileSync(
        fixtures.path('broken.yml'),
        'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  bogus: 1\n',
      );
      const failure = await waitFor(
        () =>
          one
            .logLines()
            .find((line) => line.msg === 'web config reload failed; keeping the last good one'),
        { timeoutMs: 10_000, intervalMs: 50, describe: () => JSON.stringify(one.logLines()) },
      );
      expect(String(failure.error)).toContain('tls_server_config.bogus: unknown key');
      expect(failure.level).toBe(50);
      expect(await curlStatus(`${one.url}/metrics`, fixtures, { user: 'alice:kept' })).toBe(200);
      // Logged once, not on every check.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(one.logLines().filter((line) => line.msg === failure.msg)).toHaveLength(1);
    });

    it('exits 1 at start on a broken file, naming the key', async () => {
      const path = fixtures.writeConfig(
        { tls_server_config: { ...SERVER_TLS, client_auth_type: 'Maybe' } },
        'start-broken.yml',
      );
      const run = await runExporter([
        `--web.config.file=${path}`,
        '--web.listen-address=127.0.0.1:0',
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('tls_server_config.client_auth_type: unknown value "Maybe"');
      expect(run.stdout).toBe('');
    });
  },
);
