/**
 * Soak: a running daemon sampled fast and scraped 10 times a second while its files
 * vanish and come back; each second its fds, threads and RSS are read from /proc/<pid>.
 * test/reliability/soak.test.ts runs it for seconds, `npm run bench` (part `soak`) for two
 * minutes (docs/reliability.md), `npm run soak` for as long as asked:
 *
 *   npm run soak -- [--seconds 600] [--interval 100ms]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext } from '../lib/context.js';

const WARM_UP_MS = 20_000;

export interface ProcessFigures {
  readonly second: number;
  readonly fds: number;
  readonly threads: number;
  readonly rssMiB: number;
}

export interface SoakResult {
  readonly figures: readonly ProcessFigures[];
  readonly scrapes: number;
  readonly failedScrapes: number;
  readonly samples: number;
}

export function processFigures(pid: number, second: number): ProcessFigures {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return {
    second,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    threads: field('Threads'),
    rssMiB: field('VmRSS') / 1024,
  };
}

/**
 * Scrapes `url` every 100 ms for `seconds`, calling `perturb` once a second (to remove and
 * restore files), and records the daemon's figures each second.
 */
export async function soak(options: {
  readonly pid: number;
  readonly url: string;
  readonly seconds: number;
  readonly perturb?: (second: number) => void;
}): Promise<SoakResult> {
  const figures: ProcessFigures[] = [];
  let scrapes = 0;
  let failedScrapes = 0;
  let samples = 0;
  const started = performance.now();
  for (let tick = 0; tick < options.seconds * 10; tick++) {
    const wait = started + tick * 100 - performance.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    if (tick % 10 === 0) {
      options.perturb?.(tick / 10);
      figures.push(processFigures(options.pid, tick / 10));
    }
    try {
      const response = await fetch(`${options.url}/metrics`, {
        headers: { 'accept-encoding': 'gzip' },
      });
      const text = await response.text();
      scrapes++;
      if (response.status !== 200) failedScrapes++;
      const count = /^tcpstate_sample_duration_seconds_count (\d+)/m.exec(text)?.[1];
      if (count !== undefined) samples = Number(count);
    } catch {
      failedScrapes++;
    }
  }
  return { figures, scrapes, failedScrapes, samples };
}

/** Removes net/snmp on odd seconds and puts it back on even ones: a collector that flaps. */
export function flapFile(root: string): (second: number) => void {
  const path = join(root, 'net/snmp');
  const aside = join(root, 'snmp.aside');
  return (second) => {
    if (second % 2 === 1) renameSync(path, aside);
    else if (second > 0) renameSync(aside, path);
  };
}

/**
 * The daemon from source (through tsx) on a copy of the minimal fixture tree, soaked for
 * `seconds` after a warm-up with net/snmp flapping every second.
 */
async function soakDaemon(seconds: number, interval: string): Promise<SoakResult> {
  const repo = resolve(import.meta.dirname, '../..');
  const root = mkdtempSync(join(tmpdir(), 'soak-procfs-'));
  cpSync(join(repo, 'test/fixtures/minimal'), root, { recursive: true });
  const port = 10_900 + Math.floor(Math.random() * 99);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repo, 'src/main.ts'),
      `--web.listen-address=127.0.0.1:${port}`,
      `--path.procfs=${root}`,
      `--sample.interval=${interval}`,
      '--log.level=error',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    // Run through tsx, the daemon and its worker finish loading (tsx's esbuild service and
    // module-hooks thread: +12 fds, +2 threads) well after the first scrape answers.
    await new Promise((done) => setTimeout(done, WARM_UP_MS));
    return await soak({
      pid: child.pid as number,
      url: `http://127.0.0.1:${port}`,
      seconds,
      perturb: flapFile(root),
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
    rmSync(root, { recursive: true, force: true });
  }
}

/** The bench's soak part: 120 s (20 s with --quick) at a 100 ms interval. */
export async function runSoakPart(context: BenchContext): Promise<void> {
  const seconds = context.options.quick ? 20 : 120;
  const interval = '100ms';
  context.log(`soak: ${seconds} s after a ${WARM_UP_MS / 1000} s warm-up`);
  const result = await soakDaemon(seconds, interval);
  const first = result.figures[0];
  const last = result.figures.at(-1);
  if (first === undefined || last === undefined) throw new Error('soak: no figures');
  const round = (mib: number) => Math.round(mib * 10) / 10;
  context.emit({
    kind: 'soak',
    seconds,
    interval,
    warmUpSeconds: WARM_UP_MS / 1000,
    samples: result.samples,
    scrapes: result.scrapes,
    failedScrapes: result.failedScrapes,
    first: { ...first, rssMiB: round(first.rssMiB) },
    last: { ...last, rssMiB: round(last.rssMiB) },
    maxRssMiB: round(Math.max(...result.figures.map((figure) => figure.rssMiB))),
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '600' },
      interval: { type: 'string', default: '100ms' },
    },
  });
  const seconds = Number(values.seconds);
  const result = await soakDaemon(seconds, values.interval);
  const first = result.figures[0];
  const last = result.figures.at(-1);
  const maxRss = Math.max(...result.figures.map((figure) => figure.rssMiB));
  process.stdout.write(
    `soak: ${seconds} s at --sample.interval=${values.interval}, ${result.samples} samples, ` +
      `${result.scrapes} scrapes (${result.failedScrapes} failed), net/snmp flapping every second\n` +
      `soak: fds ${first?.fds} -> ${last?.fds}, threads ${first?.threads} -> ${last?.threads}, ` +
      `RSS ${first?.rssMiB.toFixed(1)} -> ${last?.rssMiB.toFixed(1)} MiB (max ${maxRss.toFixed(1)})\n`,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await main();
}
