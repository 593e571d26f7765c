/**
 * Samples a namespace with the engine from inside it: /proc/net and /proc/sys/net are
 * the reader's namespace, so the sampler runs in a child started with `ip netns exec`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SampleOptions, Snapshot } from '../../src/snapshot/model.js';
import type { NetnsLab } from './netns.js';

const SAMPLE_MAIN = fileURLToPath(new URL('../programs/netns-sample-main.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export function sampleInNamespace(
  lab: NetnsLab,
  ns: string,
  options: Partial<Omit<SampleOptions, 'procfsRoot'>> = {},
): Snapshot {
  const output = lab.exec(ns, process.execPath, [
    '--import',
    TSX_LOADER,
    SAMPLE_MAIN,
    JSON.stringify(options),
  ]);
  return JSON.parse(output) as Snapshot;
}
