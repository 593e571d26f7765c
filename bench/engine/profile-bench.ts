/** Where the engine's CPU goes on the largest synthetic table. */
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { createSampler } from '../../src/snapshot/sample.js';
import type { BenchContext } from '../lib/context.js';
import { formatSize } from '../lib/options.js';
import { profileCalls } from './profile.js';

export async function runProfilePart(context: BenchContext): Promise<void> {
  const size = Math.max(...context.options.sizes);
  const table = context.syntheticTable(size);
  const sampler = createSampler(defaultSampleOptions(table.root));
  sampler.sample();
  context.log(`profile: engine on ${formatSize(size)} synthetic sockets`);
  const runs = Math.max(3, Math.round(3_000_000 / size));
  for (const entry of await profileCalls(() => sampler.sample(), runs)) {
    context.emit({ kind: 'profile', table: 'synthetic', size, ...entry });
  }
}
