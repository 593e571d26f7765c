import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebConfig, WebConfigError } from '../../src/server/web-config.js';
import { REPO_ROOT } from '../../testkit/exporter/exporter-cli.js';
import { makeTlsFixtures, type TlsFixtures } from '../../testkit/exporter/tls-fixtures.js';
import { canRun } from '../../testkit/kernel/capabilities.js';

const TLS = { cert_file: 'server.pem', key_file: 'server.key' };

describe.skipIf(!canRun('web config parsing with real certificates', { commands: ['openssl'] }))(
  'loadWebConfig',
  () => {
    let fixtures: TlsFixtures;
    const hash = bcrypt.hashSync('secret', 4);

    beforeAll(() => {
      fixtures = makeTlsFixtures();
    });
    afterAll(() => fixtures.remove());

    async function problem(config: unknown): Promise<WebConfigError> {
      const path = fixtures.path('bad.yml');
      writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
      const error = await loadWebConfig(path).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(WebConfigError);
      return error as WebConfigError;
    }

    it('reads an empty file as no TLS, no users, no extra headers', async () => {
      const config = await loadWebConfig(fixtures.writeConfig({}, 'empty.yml'));
      expect(config.tls).toBeUndefined();
      expect(config.users.size).toBe(0);
      expect(config.headers).toEqual({});
      expect(config.rateLimit).toBeUndefined();
    });

    it('reads every key, paths relative to the file, and lists the files to watch', async () => {
      const path = fixtures.writeConfig({
        tls_server_config: {
          ...TLS,
          client_auth_type: 'RequireAndVerifyClientCert',
          client_ca_file: 'ca.pem',
          client_allowed_sans: ['scraper.test'],
          min_version: 'TLS13',
          max_version: 'TLS13',
          cipher_suites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
          prefer_server_cipher_suites: false,
          curve_preferences: ['X25519', 'CurveP256'],
        },
        http_server_config: {
          http2: false,
          headers: { 'X-Frame-Options': 'sameorigin', 'Strict-Transport-Security': 'max-age=60' },
        },
        basic_auth_users: { alice: hash },
        rate_limit: { interval: '100ms', burst: 5 },
      });
      const config = await loadWebConfig(path);
      expect(config.tls?.clientAuth).toBe('RequireAndVerifyClientCert');
      expect(config.tls?.clientAllowedSans).toEqual(['scraper.test']);
      expect(config.tls?.context).toMatchObject({
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
        honorCipherOrder: false,
        ecdhCurve: 'X25519:P-256',
      });
      // The TLS 1.2 list is mapped to OpenSSL names; TLS 1.3 keeps all three suites, as in Go.
      expect(config.tls?.context.ciphers).toBe(
        'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
      );
      expect(String(config.tls?.context.ca)).toContain('BEGIN CERTIFICATE');
      expect(config.headers['X-Frame-Options']).toBe('sameorigin');
      expect(config.users.get('alice')).toBe(hash);
      expect(config.rateLimit).toEqual({ intervalMs: 100, burst: 5 });
      expect(config.files).toEqual([
        path,
        fixtures.path('server.pem'),
        fixtures.path('server.key'),
        fixtures.path('ca.pem'),
      ]);
    });

    it('accepts inline PEM and the old RequireClientCert name', async () => {
      const { readFileSync } = await import('node:fs');
      const config = await loadWebConfig(
        fixtures.writeConfig(
          {
            tls_server_config: {
              cert: readFileSync(fixtures.path('server.pem'), 'utf8'),
              key: readFileSync(fixtures.path('server.key'), 'utf8'),
              client_auth_type: 'RequireClientCert',
            },
          },
          'inline.yml',
        ),
      );
      expect(config.tls?.clientAuth).toBe('RequireAnyClientCert');
      expect(config.files).toHaveLength(1);
    });

    it.each([
      [{ tls_server_config: { ...TLS, foo: 1 } }, 'tls_server_config.foo', 'unknown key'],
      [{ unknown_section: {} }, 'unknown_section', 'unknown key'],
      [{ basic_auth_users: { bob: 'plain' } }, 'basic_auth_users.bob', 'not a bcrypt hash'],
      [{ tls_server_config: { key_file: 'server.key' } }, 'tls_server_config.cert_file', 'missing'],
      [{ tls_server_config: { cert_file: 'server.pem' } }, 'tls_server_config.key_file', 'missing'],
      [
        { tls_server_config: { cert_file: 'nope.pem', key_file: 'server.key' } },
        'tls_server_config.cert_file',
        'cannot read',
      ],
      [
        { tls_server_config: { cert_file: 'server.pem', key_file: 'client.key' } },
        'tls_server_config.key_file',
        'TLS setup failed',
      ],
      [
        { tls_server_config: { cert_file: 'server.key', key_file: 'server.key' } },
        'tls_server_config.cert_file',
        'not a PEM certificate',
      ],
      [
        { tls_server_config: { cert_file: 'server.pem', key_file: 'server.pem' } },
        'tls_server_config.key_file',
        'TLS setup failed',
      ],
      [
        {
          tls_server_config: {
            ...TLS,
            client_auth_type: 'RequireAndVerifyClientCert',
            client_ca_file: 'server.key',
          },
        },
        'tls_server_config.client_ca_file',
        'not a PEM certificate',
      ],
      [
        { tls_server_config: { ...TLS, client_auth_type: 'Sometimes' } },
        'tls_server_config.client_auth_type',
        'RequireAndVerifyClientCert',
      ],
      [
        { tls_server_config: { ...TLS, client_ca_file: 'ca.pem' } },
        'tls_server_config.client_auth_type',
        'without a client auth policy',
      ],
      [
        {
          tls_server_config: {
            ...TLS,
            client_auth_type: 'VerifyClientCertIfGiven',
            client_allowed_sans: ['x'],
          },
        },
        'tls_server_config.client_allowed_sans',
        'requires client_auth_type',
      ],
      [
        { tls_server_config: { ...TLS, min_version: 'TLS14' } },
        'tls_server_config.min_version',
        'TLS13',
      ],
      [
        { tls_server_config: { ...TLS, cipher_suites: ['TLS_RSA_WITH_RC4_128_SHA'] } },
        'tls_server_config.cipher_suites',
        'unknown or insecure',
      ],
      [
        { tls_server_config: { ...TLS, curve_preferences: ['CurveP999'] } },
        'tls_server_config.curve_preferences',
        'X25519',
      ],
      [
        { tls_server_config: { ...TLS, cert: 'inline', cert_file: 'server.pem' } },
        'tls_server_config.cert_file',
        'not both',
      ],
      [{ tls_server_config: { min_version: 'TLS13' } }, 'tls_server_config.min_version', 'without'],
      [
        { http_server_config: { headers: { 'Content-Type': 'text/html' } } },
        'http_server_config.headers.Content-Type',
        'can not be configured',
      ],
      [
        { http_server_config: { headers: { 'X-Frame-Options': 'allow' } } },
        'http_server_config.headers.X-Frame-Options',
        'deny, sameorigin',
      ],
      [{ http_server_config: { http2: true } }, 'http_server_config.http2', 'not supported'],
      [{ rate_limit: { interval: 'soon' } }, 'rate_limit.interval', 'duration'],
      [{ rate_limit: { interval: '1s', burst: -1 } }, 'rate_limit.burst', 'non-negative'],
    ])('rejects %j at %s', async (config, key, text) => {
      const error = await problem(config);
      expect(error.key).toBe(key);
      expect(error.message).toContain(text);
      expect(error.message.startsWith(`${key}: `)).toBe(true);
    });

    it("loads docs/web.md's example file", async () => {
      const page = readFileSync(join(REPO_ROOT, 'docs/web.md'), 'utf8');
      const section = page.slice(page.indexOf('## Web configuration'));
      const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
      expect(example).toContain('tls_server_config:');
      copyFileSync(fixtures.path('server.pem'), fixtures.path('server.crt'));
      copyFileSync(fixtures.path('ca.pem'), fixtures.path('ca.crt'));
      const path = fixtures.path('readme.yml');
      writeFileSync(path, example as string);
      const config = await loadWebConfig(path);
      expect(config.tls?.clientAuth).toBe('RequireAndVerifyClientCert');
      expect(config.users.has('prometheus')).toBe(true);
    });

    it('rejects YAML that does not parse, or repeats a key', async () => {
      expect((await problem('basic_auth_users: [')).message).toContain('not valid YAML');
      const twice = `basic_auth_users:\n  a: "${hash}"\n  a: "${hash}"\n`;
      expect((await problem(twice)).message).toContain('not valid YAML');
    });
  },
);
