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
import type { Sampled, SampleRequest, SampleWorkerData } from './sample-requests.js';

/** A worker script: `built` (`.js`) when built, its `.ts` source under tsx or vitest. */
export function workerScript(built: URL): URL {
  return existsSync(fileURLToPath(built)) ? built : new URL(built.href.replace(/\.js$/, '.ts'));
}

/**
 * A `.ts` script needs tsx's loader inside the worker (`--import tsx` in a worker's execArgv
 * does not apply to it on Node 20), so a small bootstrap registers tsx, then imports it.
 */
function startWorker(script: URL, workerData: SampleWorkerData): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => {
    register();
    return import(${JSON.stringify(script.href)});
  });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

interface PendingSample<Rendered> {
  readonly resolve: (sampled: Sampled<Rendered>) => void;
  readonly timestampMs: number;
  readonly startedMs: number;
  readonly timeout: NodeJS.Timeout;
}

export interface WorkerSamplerOptions {
  readonly sample: SampleOptions;
  /**
   * For a script that renders samples (see sample-requests.ts): `data` reaches its renderer
   * once, `request()` with each sample.
   */
  readonly render?: {
    readonly data: unknown;
    readonly request: () => unknown;
  };
  /** Called when a worker dies or is abandoned, with why; the sample in flight resolves as failed. */
  readonly onWorkerDeath: (reason: string) => void;
  /** A sample still running after this long is abandoned with its worker. */
  readonly timeoutMs: number;
  /** The worker script (sample-worker.ts by default); tests substitute one that crashes. */
  readonly script?: URL;
}

/** How long close() waits for a worker to end; one blocked in a system call never does. */
const CLOSE_GRACE_MS = 1_000;

/** Samples in a worker; `Rendered` is what the script's renderer adds to each. */
export class WorkerSampler<Rendered = never> {
  private worker: Worker | undefined;
  /** An abandoned worker still blocked in the kernel; no other starts while it lives. */
  private hung: Worker | undefined;
  private pending: PendingSample<Rendered> | undefined;
  private closed = false;
  private readonly script: URL;

  constructor(private readonly options: WorkerSamplerOptions) {
    this.script = options.script ?? workerScript(new URL('./sample-worker.js', import.meta.url));
  }

  /** One sample from the worker; never rejects. Callers wait for one before asking again. */
  sample(): Promise<Sampled<Rendered>> {
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
      const render = this.options.render?.request();
      const request: SampleRequest = render === undefined ? {} : { render };
      worker.postMessage(request);
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
    const { sample, render } = this.options;
    const worker = startWorker(
      this.script,
      render === undefined ? { sample } : { sample, render: render.data },
    );
    let crash: string | undefined;
    worker.on('message', (sampled: Sampled<Rendered>) => {
      if (this.worker !== worker) return;
      const pending = this.pending;
      this.pending = undefined;
      if (pending === undefined) return;
      clearTimeout(pending.timeout);
      pending.resolve(sampled);
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

  private failed(timestampMs: number, seconds: number, reason: string): Sampled<Rendered> {
    return { snapshot: failedSnapshot(this.options.sample, timestampMs, seconds, reason) };
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
