/**
 * CPU (user + system) and wall time per run. In-process work is timed with
 * process.cpuUsage; commands with hyperfine, which reads each child's rusage to the
 * microsecond; a long-running process (node_exporter) through /proc/<pid>/stat.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CostMeasurement, Phase, Tool } from './results.js';

/** Totals over `runs`, so samples of several rounds add up. */
export interface CostSample {
  readonly runs: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly wallSeconds: readonly number[];
  /** CPU of the fastest run, where runs were timed one by one (in-process work). */
  readonly fastestCpuSeconds?: number;
}

export function emptySample(): CostSample {
  return { runs: 0, userSeconds: 0, systemSeconds: 0, wallSeconds: [] };
}

function fastest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

export function addSamples(a: CostSample, b: CostSample): CostSample {
  return {
    runs: a.runs + b.runs,
    userSeconds: a.userSeconds + b.userSeconds,
    systemSeconds: a.systemSeconds + b.systemSeconds,
    wallSeconds: [...a.wallSeconds, ...b.wallSeconds],
    ...withFastest(fastest(a.fastestCpuSeconds, b.fastestCpuSeconds)),
  };
}

function withFastest(seconds: number | undefined): { fastestCpuSeconds?: number } {
  return seconds === undefined ? {} : { fastestCpuSeconds: seconds };
}

export function meanCpuSeconds(sample: CostSample): number {
  return (sample.userSeconds + sample.systemSeconds) / sample.runs;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function medianWallSeconds(sample: CostSample): number {
  return median(sample.wallSeconds);
}

/**
 * Calls `fn` until the JIT has settled, as in a long-running sampler: at least once and
 * for about `seconds`, at most `maxRuns` times.
 */
export function warmUp(fn: () => void, seconds = 0.5, maxRuns = 20): void {
  const started = performance.now();
  for (let run = 0; run < maxRuns; run++) {
    fn();
    if (performance.now() - started > seconds * 1000) return;
  }
}

/** CPU time of the calling thread in ns (/proc/thread-self/schedstat), if the kernel has it. */
function threadCpuNanoseconds(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/**
 * Times `runs` calls of `fn` on this thread. CPU is this thread's own (V8's compiler
 * and concurrent GC threads finishing earlier work are not counted), its system part
 * from process.cpuUsage (those threads make no system calls to speak of). Without
 * schedstat, the whole process's CPU.
 */
export function measureInProcess(runs: number, fn: () => void): CostSample {
  const wallSeconds: number[] = [];
  const threadBefore = threadCpuNanoseconds();
  const cpuBefore = process.cpuUsage();
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    fn();
    wallSeconds.push((performance.now() - started) / 1000);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const threadAfter = threadCpuNanoseconds();
  const systemSeconds = cpu.system / 1e6;
  const userSeconds =
    threadBefore === undefined || threadAfter === undefined
      ? cpu.user / 1e6
      : Math.max(0, (threadAfter - threadBefore) / 1e9 - systemSeconds);
  return {
    runs,
    userSeconds,
    systemSeconds,
    wallSeconds,
    ...withFastest(runs === 1 ? userSeconds + systemSeconds : undefined),
  };
}

interface HyperfineResult {
  readonly user: number;
  readonly system: number;
  readonly times: readonly number[];
  readonly exit_codes: readonly number[];
}

/**
 * Runs `command` `runs` times under hyperfine, without a shell (it is split like shell
 * words; a pipeline is written as `sh -c "…"` and then pays for its shell, as by hand).
 */
export function measureCommand(command: string, runs: number): CostSample {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-hyperfine-'));
  const exportPath = join(dir, 'result.json');
  try {
    execFileSync(
      'hyperfine',
      ['-N', '--runs', String(runs), '--style', 'none', '--export-json', exportPath, command],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 },
    );
    const [result] = (
      JSON.parse(readFileSync(exportPath, 'utf8')) as { results: HyperfineResult[] }
    ).results;
    if (result === undefined) throw new Error(`hyperfine gave no result for ${command}`);
    if (result.exit_codes.some((code) => code !== 0))
      throw new Error(`${command} failed under hyperfine`);
    const count = result.times.length;
    return {
      runs: count,
      userSeconds: Math.max(0, result.user) * count,
      systemSeconds: Math.max(0, result.system) * count,
      wallSeconds: result.times,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let clockTicks: number | undefined;

/** utime + stime of a process (all its threads, dead ones included), in seconds. */
export function processCpuSeconds(pid: number): { user: number; system: number } {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    user: Number(fields[11]) / clockTicks,
    system: Number(fields[12]) / clockTicks,
  };
}

export interface CostInput {
  readonly phase: Phase;
  readonly tool: Tool;
  readonly size: number;
  readonly sockets: number;
  /** Table text each run parsed; 0 for tools that do not parse it. */
  readonly bytes: number;
  readonly sample: CostSample;
  /** cat of the same table in the same run. */
  readonly cat: CostSample;
}

export function costRecord(input: CostInput): CostMeasurement {
  const { sample, cat } = input;
  const cpuSeconds = meanCpuSeconds(sample);
  const wallSeconds = medianWallSeconds(sample);
  return {
    kind: 'cost',
    phase: input.phase,
    tool: input.tool,
    size: input.size,
    sockets: input.sockets,
    bytes: input.bytes,
    runs: sample.runs,
    cpuSeconds,
    userSeconds: sample.userSeconds / sample.runs,
    systemSeconds: sample.systemSeconds / sample.runs,
    wallSeconds,
    cpuMicrosPerSocket: input.sockets > 0 ? (cpuSeconds * 1e6) / input.sockets : 0,
    cpuRatioToCat: cpuSeconds / meanCpuSeconds(cat),
    wallRatioToCat: wallSeconds / medianWallSeconds(cat),
    ...(input.bytes > 0 && { gigabytesPerSecond: input.bytes / cpuSeconds / 1e9 }),
    ...(input.bytes > 0 &&
      sample.fastestCpuSeconds !== undefined && {
        fastestGigabytesPerSecond: input.bytes / sample.fastestCpuSeconds / 1e9,
      }),
  };
}

/** `items` started at index `by` (wrapping): each round or run starts with another tool. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection now. Tools timed in one process end their runs with it when
 * they leave garbage, so that V8 collects it on their time, not during the next tool's.
 */
function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * Before timing in-process work: collect everything earlier work left and give V8's
 * background threads `pauseMs` to finish (sweeping; after a warm-up, compiling the code
 * that just got hot), so that none of it is counted as the measured work's CPU.
 */
export async function settle(pauseMs = 25): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}

/** After a warm-up: long enough for V8's background compiler to finish its queue. */
export const AFTER_WARM_UP_MS = 250;
