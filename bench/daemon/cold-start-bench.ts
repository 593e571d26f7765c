/**
 * What starting the CLI costs: `--once` on a small fixture tree and `doctor --window 0`,
 * each from exec to exit, against `node -e 0` in the same run. With `--baseline REV`,
 * that revision is built and timed too, for a before/after of the lazy loading in
 * src/main.ts (docs/architecture.md).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkout } from '../lib/checkout.js';
import type { BenchContext } from '../lib/context.js';
import {
  type CostSample,
  meanCpuSeconds,
  measureCommand,
  medianWallSeconds,
} from '../lib/measure.js';
import { buildDaemon } from './daemon-bench.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** A small captured tree: 89 sockets, every state. */
const FIXTURE = join(REPO, 'test/fixtures/all-states/proc');
const NODE = process.execPath;

function commands(entry: string): Record<string, string> {
  const script = entry.slice(entry.lastIndexOf('/') + 1);
  return {
    [`${script} --once`]: `${NODE} ${entry} --once --path.procfs=${FIXTURE}`,
    [`${script} doctor`]: `${NODE} ${entry} doctor --path.procfs=${FIXTURE} --window 0`,
  };
}

export function runColdStartPart(context: BenchContext): void {
  const runs = Math.max(3, Math.round(20 * context.options.effort));
  const builds: [string, string][] = [['this tree', buildDaemon(context).cli]];
  const { baseline } = context.options;
  if (baseline !== undefined) {
    builds.unshift([`baseline ${baseline}`, buildDaemon(context, checkout(context, baseline)).cli]);
  }
  context.log(`cold start: ${runs} runs of each command`);
  const node = measureCommand(`${NODE} -e 0`, runs);
  const record = (build: string, command: string, sample: CostSample) =>
    context.emit({
      kind: 'cold-start',
      build,
      command,
      runs: sample.runs,
      wallSeconds: medianWallSeconds(sample),
      cpuSeconds: meanCpuSeconds(sample),
      wallRatioToNode: medianWallSeconds(sample) / medianWallSeconds(node),
      cpuRatioToNode: meanCpuSeconds(sample) / meanCpuSeconds(node),
    });
  record('', 'node -e 0', node);
  for (const [build, entry] of builds) {
    for (const [name, command] of Object.entries(commands(entry))) {
      record(build, name, measureCommand(command, runs));
    }
  }
}
