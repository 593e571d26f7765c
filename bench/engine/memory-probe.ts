/**
 * Child run in a fresh process (`--expose-gc`): one sampler reads an empty table, then
 * ever larger ones (the procfs root's `net` is a symlink the probe re-points), and prints
 * one JSON MemoryMeasurement per size: RSS at its highest while sampling, heap and
 * array buffers after a full GC, each against the empty-table baseline.
 * argv[2]: JSON { root, empty, tables: [{ size, net }], samples }.
 */
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { createSampler } from '../../src/snapshot/sample.js';
import type { MemoryMeasurement } from '../lib/results.js';

interface MemoryProbeRequest {
  /** procfs root whose `net` and `sys` are symlinks this probe owns. */
  readonly root: string;
  /** The empty tree: its `net` and `sys` directories. */
  readonly empty: string;
  readonly tables: readonly { readonly size: number; readonly tree: string }[];
  readonly samples: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const request = JSON.parse(process.argv[2] ?? '{}') as MemoryProbeRequest;

function pointAt(tree: string): void {
  for (const part of ['net', 'sys']) {
    rmSync(join(request.root, part), { force: true });
    symlinkSync(join(tree, part), join(request.root, part));
  }
}

function settled(): NodeJS.MemoryUsage {
  gc?.();
  gc?.();
  return process.memoryUsage();
}

pointAt(request.empty);
const sampler = createSampler(defaultSampleOptions(request.root));
for (let i = 0; i < 5; i++) sampler.sample();
const baseline = settled();

for (const table of request.tables) {
  pointAt(table.tree);
  let highestRss = 0;
  for (let i = 0; i < request.samples; i++) {
    const snapshot = sampler.sample();
    if (snapshot.sockets === undefined)
      throw new Error(`sample failed: ${snapshot.sources.sockets?.error}`);
    highestRss = Math.max(highestRss, process.memoryUsage.rss());
  }
  const after = settled();
  const record: MemoryMeasurement = {
    kind: 'memory',
    size: table.size,
    samples: request.samples,
    rssBytes: highestRss,
    heapUsedBytes: after.heapUsed,
    arrayBuffersBytes: after.arrayBuffers,
    rssGrowthBytes: highestRss - baseline.rss,
    heapUsedGrowthBytes: after.heapUsed - baseline.heapUsed,
    arrayBuffersGrowthBytes: after.arrayBuffers - baseline.arrayBuffers,
  };
  process.stdout.write(`${JSON.stringify(record)}\n`);
}
