/** Engine memory from an empty table to each size, in a fresh process (memory-probe.ts). */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeProcfsTree } from '../../testkit/kernel/procfs-tree.js';
import type { BenchContext } from '../lib/context.js';
import type { MemoryMeasurement } from '../lib/results.js';

const PROBE_SCRIPT = fileURLToPath(new URL('./memory-probe.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export function runMemoryPart(context: BenchContext): void {
  const empty = context.scratchDir('empty');
  writeProcfsTree(empty);
  const tables = context.options.sizes.map((size) => ({
    size,
    tree: context.syntheticTable(size).root,
  }));
  context.log(`memory: fresh process, empty table then ${tables.length} sizes`);
  const output = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      TSX_LOADER,
      PROBE_SCRIPT,
      JSON.stringify({ root: context.scratchDir('memory-root'), empty, tables, samples: 10 }),
    ],
    { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  for (const line of output.trim().split('\n')) {
    context.emit(JSON.parse(line) as MemoryMeasurement);
  }
}
