/**
 * Runs the engine in a worker thread. A worker that dies (a bug, out of memory) or hangs
 * past the timeout (a read blocked in the kernel) yields a snapshot in which every source
 * failed, so no stale numbers are served. A dead worker is replaced at the next sample; a
 * hung one is not until it ends, so a read that never returns costs one thread, never one
 * per sample: the daemon neither crashes nor grows on what the kernel hands it.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { failedSnapshot } from '../snapshot/failed-snapshot.js';
import type { SampleOptions } from '../snapshot/model.js';
import type { NamespaceSysctls } from '../sources/netns-sysctl.js';
import type { Sampled, SampleRequest, SampleWorkerData } from './sample-requests.js';

/** A worker script: `built` (`.js`) when built, its `.ts` source under tsx or vitest. */
export function workerScript(built: URL): URL {
  return existsSync(fileURLToPath(built)) ? built : new URL(built.href.replace(/\.js$/, '.ts'));
}

/**
 * A `.ts` script needs tsx's loader inside the worker (`--import tsx` in a worker's execArgv
 * does not apply to it on Node 20), so a small bootstrap registers tsx, then imports it.
 */
function startWorker(script: URL, workerData: unknown): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => {
    register();
    return import(${JSON.stringify(script.href)});
  });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

interface PendingSample<Result> {
  readonly resolve: (result: Result) => void;
  readonly timestampMs: number;
  readonly startedMs: number;
  readonly timeout: NodeJS.Timeout;
}

interface WorkerOptions {
  /** Called when a worker dies or is abandoned, with why; the sample in flight resolves as failed. */
  readonly onWorkerDeath: (reason: string) => void;
  /** A sample still running after this long is abandoned with its worker. */
  readonly timeoutMs: number;
  /** The worker script; tests substitute one that crashes. */
  readonly script?: URL;
}

export interface WorkerSamplerOptions extends WorkerOptions {
  readonly sample: SampleOptions;
  /** The namespace sysctls for each sample, when they come from entering the namespace. */
  readonly namespaceSysctls?: () => NamespaceSysctls;
  /**
   * For a script that renders samples (see sample-requests.ts): `data` reaches its renderer
   * once, `request()` with each sample.
   */
  readonly render?: {
    readonly data: unknown;
    readonly request: () => unknown;
  };
}

export interface WorkerTaskOptions<Data, Result> extends WorkerOptions {
  /** Handed to the worker once, as its workerData. */
  readonly workerData: Data;
  /** The message sent for each sample; an empty object when absent. */
  readonly request?: () => object;
  readonly script: URL;
  /** The result of a sample the worker could not give (it died, hung, or was closed). */
  readonly failed: (timestampMs: number, durationSeconds: number, reason: string) => Result;
}

/** How long close() waits for a worker to end; one blocked in a system call never does. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Runs one kind of sample in a worker thread: the worker answers each message with one
 * result (a Snapshot, a round over namespaces).
 */
export class WorkerTask<Data, Result> {
  private worker: Worker | undefined;
  /** An abandoned worker still blocked in the kernel; no other starts while it lives. */
  private hung: Worker | undefined;
  private pending: PendingSample<Result> | undefined;
  private closed = false;

  constructor(private readonly options: WorkerTaskOptions<Data, Result>) {}

  /** One result from the worker; never rejects. Callers wait for one before asking again. */
  sample(): Promise<Result> {
    if (this.pending !== undefined) throw new Error('a sample is already running');
    if (this.closed) return Promise.resolve(this.failed(Date.now(), 0, 'sampler closed'));
    if (this.hung !== undefined) {
      return Promise.resolve(
        this.failed(Date.now(), 0, 'the previous sample is still blocked in the kernel'),
      );
    }
    const worker = this.worker ?? this.spawn();
    return new Promise((resolve) => {
      const timeout = setTimeout(() => this.abandon(worker), this.options.timeoutMs);
      this.pending = { resolve, timestampMs: Date.now(), startedMs: performance.now(), timeout };
      worker.postMessage(this.options.request?.() ?? {});
    });
  }

  /**
   * Stops the worker; a sample in flight resolves as failed. Resolves true once every
   * worker thread has ended, false if one is still blocked in the kernel after a grace:
   * then only ending the process without joining it (see hard-exit.ts) stops it.
   */
  async close(): Promise<boolean> {
    this.closed = true;
    const workers = [this.worker, this.hung].filter((worker) => worker !== undefined);
    this.worker = undefined;
    this.settleAsFailed('sampler closed');
    let grace: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      Promise.all(workers.map((worker) => worker.terminate())).then(() => true),
      new Promise<boolean>((resolve) => {
        grace = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
      }),
    ]);
    clearTimeout(grace);
    return ended;
  }

  private spawn(): Worker {
    const worker = startWorker(this.options.script, this.options.workerData);
    let crash: string | undefined;
    worker.on('message', (result: Result) => {
      if (this.worker !== worker) return;
      const pending = this.pending;
      this.pending = undefined;
      if (pending === undefined) return;
      clearTimeout(pending.timeout);
      pending.resolve(result);
    });
    worker.on('error', (error) => {
      crash = error.message;
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const reason = `sampler worker died (exit code ${code}${crash === undefined ? '' : `: ${crash}`})`;
      this.options.onWorkerDeath(reason);
      this.settleAsFailed(reason);
    });
    this.worker = worker;
    return worker;
  }

  /**
   * Gives up on a hung worker. terminate() cannot interrupt a thread blocked inside a
   * system call, so the worker is only detached (whatever it posts later is ignored) and
   * kept as `hung` until it ends: a read that never returns holds one thread, not one more
   * per sample.
   */
  private abandon(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.hung = worker;
    worker.once('exit', () => {
      if (this.hung === worker) this.hung = undefined;
    });
    const reason = `sample took longer than ${this.options.timeoutMs / 1000}s; its worker was abandoned`;
    this.options.onWorkerDeath(reason);
    this.settleAsFailed(reason);
    void worker.terminate();
  }

  private settleAsFailed(reason: string): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timeout);
    const seconds = (performance.now() - pending.startedMs) / 1000;
    pending.resolve(this.failed(pending.timestampMs, seconds, reason));
  }

  private failed(timestampMs: number, seconds: number, reason: string): Result {
    return this.options.failed(timestampMs, seconds, reason);
  }
}

/** The node's sample: the engine in sample-worker.ts; `Rendered` is what its renderer adds. */
export class WorkerSampler<Rendered = never> extends WorkerTask<
  SampleWorkerData,
  Sampled<Rendered>
> {
  constructor({ sample, script, namespaceSysctls, render, ...options }: WorkerSamplerOptions) {
    super({
      ...options,
      workerData: render === undefined ? { sample } : { sample, render: render.data },
      request: (): SampleRequest => {
        const namespace = namespaceSysctls?.();
        const rendering = render?.request();
        return {
          ...(namespace !== undefined && { namespace }),
          ...(rendering !== undefined && { render: rendering }),
        };
      },
      script: script ?? workerScript(new URL('./sample-worker.js', import.meta.url)),
      failed: (timestampMs, seconds, reason) => ({
        snapshot: failedSnapshot(sample, timestampMs, seconds, reason),
      }),
    });
  }
}

/**
 * How long a sample may run: generous, since 1M sockets take seconds and a busy host
 * slows the kernel's walk, yet short enough that a hung read fails the collectors well
 * before anyone trusts the numbers.
 */
export function sampleTimeoutMs(intervalMs: number): number {
  return Math.max(30_000, 6 * intervalMs);
}
