/**
 * Child entry run inside a network namespace by netns-sampler.ts: samples that namespace's
 * /proc with the engine and prints the snapshot as JSON. argv[2]: JSON options.
 */

import type { SampleOptions } from '../../src/snapshot/model.js';
import { sampleProcfs } from '../exporter/exporter-snapshots.js';

const options = JSON.parse(process.argv[2] ?? '{}') as Partial<SampleOptions>;
process.stdout.write(JSON.stringify(sampleProcfs({ procfsRoot: '/proc', ...options })));
