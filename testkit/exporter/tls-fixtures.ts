/**
 * Throwaway PKI for TLS tests, made with the openssl command (P-256 keys, valid one day): a
 * CA, two server certificates for 127.0.0.1 (to watch a reload swap them), a client
 * certificate the CA signed and a self-signed "rogue" one. Plus bcrypt hashes and web config
 * files in the same directory.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface TlsFixtures {
  readonly dir: string;
  /** Absolute path of a file in dir. */
  path(name: string): string;
  /** Writes a web config (as YAML) into dir and returns its path. */
  writeConfig(config: Readonly<Record<string, unknown>>, name?: string): string;
  remove(): void;
}

/** `words` split at spaces, then `extra` as is (a subject may hold spaces). */
function openssl(dir: string, words: string, ...extra: string[]): void {
  const args = [...words.split(' '), ...extra];
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

const NEW_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';

function leaf(dir: string, name: string, subject: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
  openssl(dir, `req ${NEW_KEY} -keyout ${name}.key -out ${name}.csr -subj`, subject);
  openssl(
    dir,
    `x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out ${name}.pem -extfile ${name}.ext`,
  );
}

export function makeTlsFixtures(): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'tsa-tls-'));
  const selfSigned = (name: string, subject: string) =>
    openssl(
      dir,
      `req -x509 ${NEW_KEY} -keyout ${name}.key -out ${name}.pem -days 1 -subj`,
      subject,
    );
  selfSigned('ca', '/CN=tcpstate test CA');
  const server = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth';
  leaf(dir, 'server', '/CN=server-one', server);
  leaf(dir, 'server2', '/CN=server-two', server);
  leaf(
    dir,
    'client',
    '/CN=scraper',
    'subjectAltName=DNS:scraper.test\nextendedKeyUsage=clientAuth',
  );
  leaf(
    dir,
    'other-client',
    '/CN=other',
    'subjectAltName=DNS:other.test\nextendedKeyUsage=clientAuth',
  );
  selfSigned('rogue', '/CN=rogue');
  return {
    dir,
    path: (name) => join(dir, name),
    writeConfig(config, name = 'web-config.yml') {
      const path = join(dir, name);
      writeFileSync(path, stringify(config));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a client command without blocking the event loop (the server may be in-process). */
export function runClient(
  command: string,
  args: readonly string[],
  input?: string,
): Promise<CommandResult> {
  return new Promise((done) => {
    const child = execFile(
      command,
      args,
      { encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** curl over TLS against the fixtures' CA: the status code, or 0 when no HTTP response came. */
export async function curlStatus(
  url: string,
  fixtures: TlsFixtures,
  options: { readonly client?: string; readonly user?: string; readonly insecure?: boolean } = {},
): Promise<number> {
  const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10'];
  if (options.insecure) args.push('-k');
  else args.push('--cacert', fixtures.path('ca.pem'));
  if (options.client !== undefined) {
    args.push(
      '--cert',
      fixtures.path(`${options.client}.pem`),
      '--key',
      fixtures.path(`${options.client}.key`),
    );
  }
  if (options.user !== undefined) args.push('-u', options.user);
  const result = await runClient('curl', [...args, url]);
  return result.code === 0 ? Number(result.stdout) : 0;
}
