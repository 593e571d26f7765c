/**
 * `--web.config.file`: exporter-toolkit's web configuration format (TLS, client certificates,
 * extra headers, basic auth, rate limit), with its semantics: unknown keys are errors, relative
 * paths are relative to the file, TLS is on when any TLS key is set. Loading reads every file
 * the configuration names and builds the TLS context once, so a file that loads is one that
 * serves. `yaml` is imported here on demand: without the flag it is never loaded.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { parseDuration } from '../cli/flag-parser.js';

/** A web config problem, naming the key at fault (`tls_server_config.cert_file`). */
export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(key === '' ? problem : `${key}: ${problem}`);
  }
}

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS: Readonly<Record<string, SecureContextOptions['minVersion']>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/** Go's tls.CipherSuites() names → OpenSSL names. Go's TLS 1.3 suites are not configurable. */
const TLS12_CIPHERS: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
const TLS13_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/** The headers exporter-toolkit lets a config set, with their allowed values (none: any). */
const EXTRA_HEADERS: Readonly<Record<string, readonly string[] | undefined>> = {
  'Strict-Transport-Security': undefined,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': undefined,
  'Content-Security-Policy': undefined,
};

/** $2a$, $2b$ or $2y$, two-digit cost, 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export interface TlsSettings {
  /** For tls.createSecureContext and the https server: cert, key, ca, versions, ciphers. */
  readonly context: SecureContextOptions;
  readonly clientAuth: ClientAuthType;
  /** Client certificates must carry one of these SANs (DNS, IP, email or URI), when set. */
  readonly clientAllowedSans: readonly string[] | undefined;
}

export interface RateLimit {
  readonly intervalMs: number;
  readonly burst: number;
}

export interface WebConfig {
  readonly tls: TlsSettings | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** User name → bcrypt hash; empty means no authentication. */
  readonly users: ReadonlyMap<string, string>;
  readonly rateLimit: RateLimit | undefined;
  /** Every file read to build this config, the config file first: reload watches them. */
  readonly files: readonly string[];
}

type Mapping = Readonly<Record<string, unknown>>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A mapping with only the given keys (absent or null is empty), as Go's UnmarshalStrict. */
function mapping(value: unknown, key: string, allowed: readonly string[]): Mapping {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new WebConfigError(key, 'expected a mapping');
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) {
      const where = key === '' ? name : `${key}.${name}`;
      throw new WebConfigError(where, `unknown key (expected one of ${allowed.join(', ')})`);
    }
  }
  return value;
}

function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new WebConfigError(key, 'expected a string');
  return value;
}

function optionalBoolean(value: unknown, key: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new WebConfigError(key, 'expected true or false');
  return value;
}

function optionalStrings(value: unknown, key: string): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new WebConfigError(key, 'expected a list of strings');
  }
  return value;
}

function stringMap(value: unknown, key: string): Readonly<Record<string, string>> {
  const entries = mapping(value, key, isMapping(value) ? Object.keys(value) : []);
  for (const [name, item] of Object.entries(entries)) {
    if (typeof item !== 'string') throw new WebConfigError(`${key}.${name}`, 'expected a string');
  }
  return entries as Record<string, string>;
}

function oneOf<T extends string>(
  value: string | undefined,
  key: string,
  choices: Readonly<Record<string, T | undefined>>,
): T | undefined {
  if (value === undefined) return undefined;
  const chosen = choices[value];
  if (chosen === undefined) {
    throw new WebConfigError(
      key,
      `unknown value ${JSON.stringify(value)} (expected one of ${Object.keys(choices).join(', ')})`,
    );
  }
  return chosen;
}

async function readKeyFile(path: string, key: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new WebConfigError(key, `cannot read ${path} (${code})`);
  }
}

/** Inline PEM or a file relative to the config's directory; both at once is ambiguous. */
async function pem(
  section: Mapping,
  inlineKey: string,
  fileKey: string,
  directory: string,
  files: string[],
): Promise<string | undefined> {
  const inline = optionalString(section[inlineKey], `tls_server_config.${inlineKey}`);
  const file = optionalString(section[fileKey], `tls_server_config.${fileKey}`);
  if (inline !== undefined && file !== undefined) {
    throw new WebConfigError(
      `tls_server_config.${fileKey}`,
      `set either ${inlineKey} or ${fileKey}, not both`,
    );
  }
  if (file === undefined) return inline;
  const path = resolve(directory, file);
  files.push(path);
  return readKeyFile(path, `tls_server_config.${fileKey}`);
}

function ciphers(names: readonly string[] | undefined): string | undefined {
  if (names === undefined || names.length === 0) return undefined;
  const tls12 = names.flatMap((name) => {
    if (TLS13_CIPHERS.includes(name)) return [];
    const openssl = TLS12_CIPHERS[name];
    if (openssl === undefined) {
      throw new WebConfigError(
        'tls_server_config.cipher_suites',
        `unknown or insecure cipher suite ${JSON.stringify(name)} (expected Go names of tls.CipherSuites(), e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`,
      );
    }
    return [openssl];
  });
  // As in Go, the list governs TLS 1.2 and below; TLS 1.3 keeps its three suites.
  return [...TLS13_CIPHERS, ...tls12].join(':');
}

const TLS_KEYS = [
  'cert',
  'key',
  'client_ca',
  'cert_file',
  'key_file',
  'client_auth_type',
  'client_ca_file',
  'client_allowed_sans',
  'min_version',
  'max_version',
  'cipher_suites',
  'prefer_server_cipher_suites',
  'curve_preferences',
];

async function tlsSettings(
  value: unknown,
  directory: string,
  files: string[],
): Promise<TlsSettings | undefined> {
  const section = mapping(value, 'tls_server_config', TLS_KEYS);
  const key = (name: string) => `tls_server_config.${name}`;
  const clientAuthText = optionalString(section.client_auth_type, key('client_auth_type'));
  const cert = await pem(section, 'cert', 'cert_file', directory, files);
  const privateKey = await pem(section, 'key', 'key_file', directory, files);
  const ca = await pem(section, 'client_ca', 'client_ca_file', directory, files);
  // exporter-toolkit's IsEnabled: any of these turns TLS on (and then cert and key are due).
  if (
    cert === undefined &&
    privateKey === undefined &&
    ca === undefined &&
    clientAuthText === undefined
  ) {
    const stray = TLS_KEYS.find((name) => section[name] !== undefined && section[name] !== null);
    if (stray !== undefined)
      throw new WebConfigError(key(stray), 'set without cert_file and key_file');
    return undefined;
  }
  if (cert === undefined)
    throw new WebConfigError(key('cert_file'), 'missing one of cert or cert_file');
  if (privateKey === undefined)
    throw new WebConfigError(key('key_file'), 'missing one of key or key_file');

  // RequireClientCert is exporter-toolkit's older name for RequireAnyClientCert.
  const clientAuthChoices: Record<string, ClientAuthType> = Object.fromEntries(
    CLIENT_AUTH_TYPES.map((type) => [type, type]),
  );
  clientAuthChoices.RequireClientCert = 'RequireAnyClientCert';
  const clientAuth =
    oneOf(clientAuthText, key('client_auth_type'), clientAuthChoices) ?? 'NoClientCert';
  if (ca !== undefined && clientAuth === 'NoClientCert') {
    throw new WebConfigError(
      key('client_auth_type'),
      'client CA configured without a client auth policy (NoClientCert)',
    );
  }
  const clientAllowedSans = optionalStrings(
    section.client_allowed_sans,
    key('client_allowed_sans'),
  );
  if (
    clientAllowedSans !== undefined &&
    clientAuth !== 'RequireAnyClientCert' &&
    clientAuth !== 'RequireAndVerifyClientCert'
  ) {
    throw new WebConfigError(
      key('client_allowed_sans'),
      'requires client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert',
    );
  }

  const minVersion =
    oneOf(
      optionalString(section.min_version, key('min_version')),
      key('min_version'),
      TLS_VERSIONS,
    ) ?? 'TLSv1.2';
  const maxVersion =
    oneOf(
      optionalString(section.max_version, key('max_version')),
      key('max_version'),
      TLS_VERSIONS,
    ) ?? 'TLSv1.3';
  const curves = optionalStrings(section.curve_preferences, key('curve_preferences'))?.map(
    (name) => oneOf(name, key('curve_preferences'), CURVES) as string,
  );
  const context: SecureContextOptions = {
    cert,
    key: privateKey,
    ...(ca === undefined ? {} : { ca }),
    minVersion,
    maxVersion,
    honorCipherOrder:
      optionalBoolean(section.prefer_server_cipher_suites, key('prefer_server_cipher_suites')) ??
      true,
    ...(curves === undefined || curves.length === 0 ? {} : { ecdhCurve: curves.join(':') }),
  };
  const cipherList = ciphers(optionalStrings(section.cipher_suites, key('cipher_suites')));
  if (cipherList !== undefined) context.ciphers = cipherList;
  // Certificates first, so a bad one is named as such; what then fails is the key or a setting.
  checkCertificate(cert, key(section.cert === undefined ? 'cert_file' : 'cert'));
  if (ca !== undefined) {
    checkCertificate(ca, key(section.client_ca === undefined ? 'client_ca_file' : 'client_ca'));
  }
  try {
    createSecureContext(context);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let at = section.key === undefined ? 'key_file' : 'key';
    if (/version/i.test(message)) at = 'min_version';
    throw new WebConfigError(key(at), `TLS setup failed: ${message}`);
  }
  return { context, clientAuth, clientAllowedSans };
}

function checkCertificate(pemText: string, key: string): void {
  try {
    new X509Certificate(pemText);
  } catch (error) {
    throw new WebConfigError(key, `not a PEM certificate: ${(error as Error).message}`);
  }
}

function headers(value: unknown): Readonly<Record<string, string>> {
  const section = mapping(value, 'http_server_config', ['http2', 'headers']);
  // Node serves HTTP/1.1 here; saying http2: true would promise what this server does not do.
  if (optionalBoolean(section.http2, 'http_server_config.http2') === true) {
    throw new WebConfigError(
      'http_server_config.http2',
      'HTTP/2 is not supported by this exporter; remove the key or set it to false',
    );
  }
  const configured = stringMap(section.headers, 'http_server_config.headers');
  for (const [name, text] of Object.entries(configured)) {
    const key = `http_server_config.headers.${name}`;
    if (!(name in EXTRA_HEADERS)) {
      throw new WebConfigError(
        key,
        `this header can not be configured (allowed: ${Object.keys(EXTRA_HEADERS).join(', ')})`,
      );
    }
    const allowed = EXTRA_HEADERS[name];
    if (allowed !== undefined && !allowed.includes(text)) {
      throw new WebConfigError(
        key,
        `expected one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`,
      );
    }
  }
  return configured;
}

function users(value: unknown): ReadonlyMap<string, string> {
  const hashes = stringMap(value, 'basic_auth_users');
  for (const [name, hash] of Object.entries(hashes)) {
    if (!BCRYPT_HASH.test(hash)) {
      throw new WebConfigError(
        `basic_auth_users.${name}`,
        'not a bcrypt hash (expected $2y$10$... as from htpasswd -nBC 10)',
      );
    }
  }
  return new Map(Object.entries(hashes));
}

function rateLimit(value: unknown): RateLimit | undefined {
  const section = mapping(value, 'rate_limit', ['interval', 'burst']);
  const text = section.interval;
  if (text === undefined || text === null || text === 0 || text === '0') return undefined;
  const intervalMs = typeof text === 'string' ? parseDuration(text) : undefined;
  if (intervalMs === undefined)
    throw new WebConfigError('rate_limit.interval', 'expected a duration like 100ms or 1s');
  const burst = section.burst ?? 0;
  if (typeof burst !== 'number' || !Number.isSafeInteger(burst) || burst < 0) {
    throw new WebConfigError('rate_limit.burst', 'expected a non-negative integer');
  }
  return intervalMs === 0 ? undefined : { intervalMs, burst };
}

/** Reads and checks the web config file and every file it names; throws WebConfigError. */
export async function loadWebConfig(path: string): Promise<WebConfig> {
  const configPath = resolve(path);
  const text = await readKeyFile(configPath, '');
  const { parse } = await import('yaml');
  let document: unknown;
  try {
    document = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    throw new WebConfigError('', `${configPath}: not valid YAML: ${(error as Error).message}`);
  }
  const top = mapping(document, '', [
    'tls_server_config',
    'http_server_config',
    'basic_auth_users',
    'rate_limit',
  ]);
  const files = [configPath];
  return {
    tls: await tlsSettings(top.tls_server_config, dirname(configPath), files),
    headers: headers(top.http_server_config),
    users: users(top.basic_auth_users),
    rateLimit: rateLimit(top.rate_limit),
    files,
  };
}
