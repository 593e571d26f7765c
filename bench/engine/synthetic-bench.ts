/**
 * Synthetic tables on tmpfs: the engine's whole sample, its parser alone on text in
 * memory, the naive split parser (from the files and from memory) and cat of the same
 * files. cat here only copies page-cache bytes, so these ratios show the parser's cost;
 * the ratio that matters for the kernel's own tables is in the real-table part.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { createSampler } from '../../src/snapshot/sample.js';
import { SocketAccumulator } from '../../src/snapshot/socket-accumulator.js';
import { procfsSysctls, readEphemeralSettings } from '../../src/sources/sysctl.js';
import type { BenchContext } from '../lib/context.js';
import {
  AFTER_WARM_UP_MS,
  addSamples,
  type CostSample,
  costRecord,
  emptySample,
  measureCommand,
  measureInProcess,
  rotate,
  settle,
  warmUp,
} from '../lib/measure.js';
import { formatSize } from '../lib/options.js';
import type { Tool } from '../lib/results.js';
import type { SyntheticTable } from '../lib/synthetic-table.js';
import { decodeCachedTable, StateCountingSink } from './cached-parser.js';
import { countStatesNaively, sampleNaively } from './naive-parser.js';

function sameCounts(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function checkedSampler(table: SyntheticTable): () => void {
  const sampler = createSampler(defaultSampleOptions(table.root));
  return () => {
    const sockets = sampler.sample().sockets;
    const seen = (sockets?.tcp.sockets ?? 0) + (sockets?.tcp6.sockets ?? 0);
    if (seen !== table.sockets) throw new Error(`engine saw ${seen} of ${table.sockets} sockets`);
  };
}

/** The line decoder alone: both tables from memory into a sink that counts family × state. */
function cachedDecoder(table: SyntheticTable): () => void {
  const tcp = readFileSync(join(table.root, 'net/tcp'));
  const tcp6 = readFileSync(join(table.root, 'net/tcp6'));
  const sink = new StateCountingSink();
  return () => {
    sink.counts.fill(0);
    decodeCachedTable(tcp, 'ipv4', sink);
    decodeCachedTable(tcp6, 'ipv6', sink);
    if (!sameCounts(sink.counts, table.counts)) throw new Error('decoder miscounted');
  };
}

/** Decoder and aggregation: begin, decode both tables from memory, aggregate. */
function cachedParser(table: SyntheticTable): () => void {
  const tcp = readFileSync(join(table.root, 'net/tcp'));
  const tcp6 = readFileSync(join(table.root, 'net/tcp6'));
  const settings = readEphemeralSettings(procfsSysctls(table.root));
  const accumulator = new SocketAccumulator();
  return () => {
    accumulator.begin(settings);
    const seen =
      decodeCachedTable(tcp, 'ipv4', accumulator) + decodeCachedTable(tcp6, 'ipv6', accumulator);
    accumulator.finish(defaultSampleOptions(table.root));
    if (seen !== table.sockets) throw new Error(`parser saw ${seen} of ${table.sockets} sockets`);
  };
}

function checkedNaive(table: SyntheticTable): () => void {
  return () => {
    if (!sameCounts(sampleNaively(table.root).counts, table.counts))
      throw new Error('naive parser miscounted');
  };
}

function cachedNaive(table: SyntheticTable): () => void {
  const tcp = readFileSync(join(table.root, 'net/tcp'), 'latin1');
  const tcp6 = readFileSync(join(table.root, 'net/tcp6'), 'latin1');
  return () => {
    const counts = new Uint32Array(table.counts.length);
    countStatesNaively(tcp, 0, counts);
    countStatesNaively(tcp6, 1, counts);
    if (!sameCounts(counts, table.counts)) throw new Error('naive parser miscounted');
  };
}

export async function runSyntheticPart(context: BenchContext): Promise<void> {
  for (const size of context.options.sizes) {
    const table = context.syntheticTable(size);
    const runs = context.runs(size);
    context.log(`synthetic ${formatSize(size)}: ${runs} runs per tool`);
    const files = `${join(table.root, 'net/tcp')} ${join(table.root, 'net/tcp6')}`;
    const cat = measureCommand(`cat ${files}`, runs);
    const common = { phase: 'synthetic', size, sockets: table.sockets, cat } as const;
    context.emit(costRecord({ ...common, tool: 'cat', bytes: 0, sample: cat }));
    const inProcess = [
      ['engine', checkedSampler(table)],
      ['decoder', cachedDecoder(table)],
      ['parser', cachedParser(table)],
      ['naive', checkedNaive(table)],
      ['naive-parse', cachedNaive(table)],
    ] as const;
    // As in a long-running sampler: JIT settled, buffers grown to the table's size.
    for (const [, run] of inProcess) warmUp(run);
    await settle(AFTER_WARM_UP_MS);
    // One run of each in turn, so a change in the machine's load falls on all alike.
    const samples = new Map<Tool, CostSample>();
    for (let round = 0; round < runs; round++) {
      for (const [tool, run] of rotate(inProcess, round)) {
        await settle();
        samples.set(tool, addSamples(samples.get(tool) ?? emptySample(), measureInProcess(1, run)));
      }
    }
    for (const [tool] of inProcess) {
      const sample = samples.get(tool) as CostSample;
      context.emit(costRecord({ ...common, tool, bytes: table.bytes, sample }));
    }
  }
}
