/**
 * The exporter as a spawned process, run from source through tsx (no build step needed):
 * one-shot runs with their output and status, and daemons whose start line gives the port.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { asUser } from '../kernel/namespace-process.js';
import { type Daemon, startDaemon, waitFor } from '../prometheus/prometheus-daemon.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The built entry point, as `npm run build` writes it and `bin` names it. */
export const BUILT_CLI = join(REPO_ROOT, 'dist/main.js');

/** `node --import tsx src/main.ts ...args` (or `node dist/main.js ...args`), as argv for spawn. */
export function exporterCommand(
  args: readonly string[],
  options: { readonly built?: boolean; readonly entry?: string } = {},
): [string, string[]] {
  if (options.built) return [process.execPath, [BUILT_CLI, ...args]];
  const entry = join(REPO_ROOT, options.entry ?? 'src/main.ts');
  return [process.execPath, ['--import', 'tsx', entry, ...args]];
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runExporter(args: readonly string[]): Promise<CliRun> {
  return runCommand(...exporterCommand(args));
}

/** Runs a command from the repository to its end (30 s at most): its status and output. */
export function runCommand(file: string, argv: readonly string[]): Promise<CliRun> {
  return new Promise((done, reject) => {
    execFile(
      file,
      argv,
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : error.code;
        if (typeof code !== 'number') reject(error ?? new Error('no exit code'));
        else done({ code, stdout, stderr });
      },
    );
  });
}

export interface RunningExporter {
  readonly daemon: Daemon;
  /** `http://127.0.0.1:port` as bound (the daemon is started on port 0). */
  readonly url: string;
  /** The JSON log lines so far. */
  logLines(): Record<string, unknown>[];
  /** Resolves with the exit code and signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function parseLogLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Starts the daemon on 127.0.0.1:0 (inside `netns` if given) and waits for its start line. */
export async function startExporter(
  args: readonly string[],
  options: {
    readonly netns?: string;
    readonly built?: boolean;
    readonly entry?: string;
    /** Runs it under `prlimit --nofile=N:N`. */
    readonly fileLimit?: number;
    /** Runs it as this uid (and gid), without capabilities (setpriv). */
    readonly user?: number;
    /** Runs it wrapped, e.g. in a deployment's confinement (testkit/deploy/deploy-runtime.ts). */
    readonly wrap?: (file: string, argv: readonly string[]) => { file: string; args: string[] };
  } = {},
): Promise<RunningExporter> {
  let [file, argv] = exporterCommand(['--web.listen-address=127.0.0.1:0', ...args], options);
  if (options.fileLimit !== undefined) {
    [file, argv] = [
      'prlimit',
      [`--nofile=${options.fileLimit}:${options.fileLimit}`, file, ...argv],
    ];
  }
  if (options.user !== undefined) [file, argv] = asUser(options.user, file, argv);
  if (options.wrap !== undefined) {
    const wrapped = options.wrap(file, argv);
    [file, argv] = [wrapped.file, wrapped.args];
  }
  const daemon = startDaemon(file, argv, {
    cwd: REPO_ROOT,
    ...(options.netns === undefined ? {} : { netns: options.netns }),
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    daemon.child.once('exit', (code, signal) => done({ code, signal }));
  });
  const logLines = () => parseLogLines(daemon.output());
  try {
    const started = await waitFor(
      () => {
        if (daemon.child.exitCode !== null) throw new Error(`exporter exited:\n${daemon.output()}`);
        return logLines().find((line) => line.msg === 'tcpstate-exporter started');
      },
      { timeoutMs: 20_000, intervalMs: 50, describe: () => daemon.output() },
    );
    return { daemon, url: `http://${String(started.address)}`, logLines, exited };
  } catch (error) {
    await daemon.stop();
    throw error;
  }
}
