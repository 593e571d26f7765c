/**
 * What reading every network namespace costs: for 1, 10 and 100 namespaces holding the
 * same sockets in all, one round reads each namespace's `/proc/<pid>/net/tcp` and `tcp6`
 * with the engine's reader and accumulator (as the netns collector does), against `cat`
 * of the same files. Each read walks the kernel's socket hash, which all namespaces share,
 * so a round costs about namespaces × (the hash's buckets + every socket on the machine).
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_SAMPLE_OPTIONS } from '../src/snapshot/model.js';
import { SocketAccumulator } from '../src/snapshot/socket-accumulator.js';
import { readEphemeralSettings } from '../src/sources/sysctl.js';
import { TcpTableReader } from '../src/sources/tcp-table.js';
import { missingCapability } from '../testkit/kernel/capabilities.js';
import type { BenchContext } from './context.js';
import {
  addSamples,
  type CostSample,
  emptySample,
  meanCpuSeconds,
  measureCommand,
  measureInProcess,
  medianWallSeconds,
  settle,
  warmUp,
} from './measure.js';
import { SpreadTable } from './netns-table.js';
import { formatSize } from './options.js';
import { machineSocketCount } from './real-table.js';

export const NAMESPACE_COUNTS = [1, 10, 100] as const;
/** Larger tables read 100 times per round would take minutes a round. */
export const NETNS_MAX_SIZE = 100_000;
/** Runs per configuration: at least this many, then until the time is spent. */
const MIN_RUNS = 5;
const MAX_RUNS = 15;
const RUN_SECONDS = 6;

/** One round's reader: every namespace's tcp and tcp6, each into a fresh aggregate. */
function namespaceRound(pids: readonly number[]): () => number {
  const reader = new TcpTableReader();
  const accumulator = new SocketAccumulator();
  const settings = readEphemeralSettings('/proc');
  return () => {
    let sockets = 0;
    for (const pid of pids) {
      accumulator.begin(settings);
      sockets += reader.read(`/proc/${pid}/net/tcp`, 'ipv4', accumulator).sockets;
      sockets += reader.read(`/proc/${pid}/net/tcp6`, 'ipv6', accumulator).sockets;
      accumulator.finish(DEFAULT_SAMPLE_OPTIONS);
    }
    return sockets;
  };
}

async function measureSpread(context: BenchContext, namespaces: number, size: number) {
  const label = `netns ${namespaces} × ${formatSize(size)}`;
  const table = await SpreadTable.build(namespaces, size, (message) =>
    context.log(`${label}: ${message}`),
  );
  try {
    const round = namespaceRound(table.pids);
    let sockets = 0;
    const engine = () => {
      sockets = round();
    };
    const cat = `cat ${table.pids.map((pid) => `/proc/${pid}/net/tcp /proc/${pid}/net/tcp6`).join(' ')}`;
    warmUp(engine);
    let engineSample = emptySample();
    let catSample = emptySample();
    const started = performance.now();
    for (
      let run = 0;
      run < MAX_RUNS && (run < MIN_RUNS || performance.now() - started < RUN_SECONDS * 1000);
      run++
    ) {
      // Side by side, starting with each in turn: the kernel's time drifts over seconds.
      const engineFirst = run % 2 === 0;
      if (!engineFirst) catSample = addSamples(catSample, measureCommand(cat, 1));
      await settle();
      engineSample = addSamples(engineSample, measureInProcess(1, engine));
      if (engineFirst) catSample = addSamples(catSample, measureCommand(cat, 1));
    }
    const machineSockets = machineSocketCount();
    context.emit({
      kind: 'netns',
      namespaces,
      size,
      sockets,
      ...(machineSockets !== undefined && { machineSockets }),
      runs: engineSample.runs,
      engine: summary(engineSample),
      cat: summary(catSample),
    });
    context.log(
      `${label}: engine ${(meanCpuSeconds(engineSample) * 1000).toFixed(1)} ms CPU, cat ${(meanCpuSeconds(catSample) * 1000).toFixed(1)} ms (${engineSample.runs} runs, ${sockets} sockets seen)`,
    );
  } finally {
    await table.close();
  }
}

function summary(sample: CostSample) {
  return {
    cpuSeconds: meanCpuSeconds(sample),
    userSeconds: sample.userSeconds / sample.runs,
    systemSeconds: sample.systemSeconds / sample.runs,
    wallSeconds: medianWallSeconds(sample),
  };
}

export async function runNetnsPart(context: BenchContext): Promise<void> {
  const missing = missingCapability({ netns: true, commands: ['hyperfine', 'perl'] });
  if (missing !== undefined) {
    context.note('netns', `every-namespace cost skipped: ${missing}`);
    return;
  }
  const sizes = context.options.sizes.filter((size) => size <= NETNS_MAX_SIZE);
  if (sizes.length < context.options.sizes.length) {
    context.note(
      'netns',
      `sizes above ${formatSize(NETNS_MAX_SIZE)} left out: 100 namespaces read the whole hash 100 times a round`,
    );
  }
  for (const size of sizes) {
    for (const namespaces of NAMESPACE_COUNTS) {
      await measureSpread(context, namespaces, size).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        context.note(
          'netns',
          `${namespaces} namespaces × ${formatSize(size)} failed: ${message.split('\n').slice(0, 3).join(' ')}`,
        );
      });
    }
  }
}
