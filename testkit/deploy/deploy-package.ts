/**
 * The npm package as users get it: built, packed with `npm pack`, installed from the tarball
 * into an empty directory, its dependencies coming from the registry like anyone else's.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './deploy-config.js';

function npm(args: readonly string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
}

export interface PackedPackage {
  readonly tarball: string;
  /** Paths inside the tarball, without the leading `package/`. */
  readonly files: readonly string[];
}

/** `npm run build` then `npm pack` of the repository into `destination`. */
export function buildAndPack(destination: string): PackedPackage {
  npm(['run', 'build'], repoRoot);
  const [packed] = JSON.parse(
    npm(['pack', '--json', '--pack-destination', destination], repoRoot),
  ) as { filename: string; files: { path: string }[] }[];
  if (packed === undefined) throw new Error('npm pack reported nothing');
  return {
    tarball: join(destination, packed.filename),
    files: packed.files.map((file) => file.path),
  };
}

/** A fresh directory readable by every user (the installs run as unprivileged users too). */
export function worldReadableTempDir(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(directory, 0o755);
  return directory;
}

/** `npm install <tarball>` into an empty project; returns the path of the installed bin. */
export function installLocally(tarball: string, directory: string): string {
  npm(['init', '-y'], directory);
  npm(['install', tarball], directory);
  return join(directory, 'node_modules', '.bin', 'tcpstate-exporter');
}

/** `npm install -g` into `prefix`, the layout of a global install; returns the bin path. */
export function installGlobally(tarball: string, prefix: string): string {
  mkdirSync(prefix, { recursive: true });
  npm(['install', '--global', '--prefix', prefix, tarball], prefix);
  return join(prefix, 'bin', 'tcpstate-exporter');
}
