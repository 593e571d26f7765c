/**
 * Process plumbing shared by the Prometheus and Alertmanager helpers: a free loopback port,
 * a long-lived child (optionally inside a network namespace) with its output kept for
 * failure messages, HTTP GETs that also work into a namespace, polling, and starting a
 * daemon that is ready (or cleaned up) when the call returns.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';

/** A port that was free on 127.0.0.1 a moment ago (the kernel picked it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

const OUTPUT_LIMIT = 64 * 1024;

export interface Daemon {
  readonly child: ChildProcess;
  /** The last 64 KiB of stdout and stderr, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `command` (inside `netns` through `ip netns exec`, which execs it, so the pid is
 * the command's own). The child is killed if the test process exits without stopping it.
 */
export function startDaemon(
  command: string,
  args: readonly string[],
  options: { readonly netns?: string; readonly cwd?: string } = {},
): Daemon {
  const [file, argv] =
    options.netns === undefined
      ? [command, args]
      : ['ip', ['netns', 'exec', options.netns, command, ...args]];
  const child = spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  return {
    child,
    output: () => output,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** Runs inside a namespace: GET argv[1], print `status\n` then the body. */
const NAMESPACED_GET = `
const response = await fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
process.stdout.write(response === undefined ? '0\\n' : response.status + '\\n' + (await response.text()));
`;

/**
 * GET `url`; inside `netns` the request is made by a short-lived node process in that
 * namespace. A refused connection is status 0, not an exception.
 */
export async function httpGet(url: string, netns?: string): Promise<HttpResponse> {
  if (netns === undefined) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      return { status: response.status, body: await response.text() };
    } catch {
      return { status: 0, body: '' };
    }
  }
  const stdout = await new Promise<string>((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', NAMESPACED_GET, url],
      { encoding: 'utf8', timeout: 10_000, maxBuffer: 64 * 1024 * 1024 },
      // A client that could not start or finish in time (a loaded machine) is no answer.
      (error, out) => resolve(error ? '0\n' : out),
    );
  });
  const newline = stdout.indexOf('\n');
  return {
    status: Number(newline < 0 ? stdout : stdout.slice(0, newline)),
    body: newline < 0 ? '' : stdout.slice(newline + 1),
  };
}

/** Polls `probe` every `intervalMs` until it returns a value, or throws `describe()` on timeout. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; describe: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms: ${options.describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}

/** Waits until GET `url` answers 200, failing early with the output if the daemon exits. */
export async function waitUntilReady(
  daemon: Daemon,
  url: string,
  options: { readonly netns?: string; readonly timeoutMs?: number; readonly name: string },
): Promise<void> {
  await waitFor(
    async () => {
      if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
        throw new Error(`${options.name} exited early:\n${daemon.output()}`);
      }
      const response = await httpGet(url, options.netns);
      return response.status === 200 ? true : undefined;
    },
    {
      timeoutMs: options.timeoutMs ?? 30_000,
      describe: () => `${options.name} not ready at ${url}:\n${daemon.output()}`,
    },
  );
}

/**
 * Starts a daemon and waits until GET `readyUrl` answers 200. `ownedDir` (its config and
 * data) is removed when it stops, and at once if it never gets ready.
 */
export async function startReadyDaemon(
  command: string,
  args: readonly string[],
  options: {
    readonly name: string;
    readonly readyUrl: string;
    readonly netns?: string;
    readonly cwd?: string;
    readonly ownedDir?: string;
  },
): Promise<Daemon> {
  const netns = options.netns === undefined ? {} : { netns: options.netns };
  const removeOwnedDir = (): void => {
    if (options.ownedDir !== undefined) rmSync(options.ownedDir, { recursive: true, force: true });
  };
  let daemon: Daemon | undefined;
  try {
    daemon = startDaemon(command, args, {
      ...netns,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    await waitUntilReady(daemon, options.readyUrl, { name: options.name, ...netns });
  } catch (error) {
    await daemon?.stop();
    removeOwnedDir();
    throw error;
  }
  const started = daemon;
  return {
    child: started.child,
    output: started.output,
    async stop(graceMs) {
      await started.stop(graceMs);
      removeOwnedDir();
    },
  };
}
