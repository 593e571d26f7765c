/**
 * What taking in one sample costs the HTTP thread, i.e. how long a scrape arriving then may
 * wait: a 200k-socket synthetic table sampled by the daemon's worker, then the sample either
 * rendered in this thread (every format and encoding, as when the worker cannot) or taken as
 * the worker rendered it (a swap of references), each until its first scrape is served.
 *
 *   npx tsx bench/daemon/sample-intake-bench.ts [--samples 20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COLLECTOR_NAMES, type CollectorName } from '../../src/collectors/registry.js';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import type { RenderedSample } from '../../src/metrics/sample-exposition.js';
import { expositionWorkerScript } from '../../src/sampler/exposition-worker.js';
import { WorkerSampler } from '../../src/sampler/worker-sampler.js';
import { writeSyntheticProcfs } from '../lib/synthetic-table.js';

const { values: flags } = parseArgs({ options: { samples: { type: 'string', default: '20' } } });
const work = mkdtempSync(join(tmpdir(), 'intake-'));

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

try {
  const table = writeSyntheticProcfs(join(work, 'procfs'), 200_000);
  const collectors = Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, true])) as Record<
    CollectorName,
    boolean
  >;
  const metrics = new ExporterMetrics({ collectors, version: 'bench', sampleIntervalSeconds: 1 });
  const sampler = new WorkerSampler<RenderedSample>({
    sample: defaultSampleOptions(table.root),
    render: { data: metrics.options, request: () => metrics.nextRenderRequest() },
    script: expositionWorkerScript(),
    timeoutMs: 60_000,
    onWorkerDeath: (reason) => process.stderr.write(`worker died: ${reason}\n`),
  });
  // Prometheus' format and encoding, and the text a person reads.
  const scrape = () =>
    Promise.all([metrics.render('openmetrics', 'gzip'), metrics.render('text', 'identity')]);
  await scrape();
  const timings = { inThread: [] as number[], handedOver: [] as number[] };
  for (let i = 0; i < Number(flags.samples); i++) {
    const { snapshot, rendered } = await sampler.sample();
    if (rendered === undefined) throw new Error('the worker did not render the sample');
    // Alternating, so that both ways see the same machine.
    const way = i % 2 === 0 ? 'inThread' : 'handedOver';
    const started = performance.now();
    metrics.update(snapshot, way === 'inThread' ? undefined : rendered);
    await scrape();
    timings[way].push(performance.now() - started);
  }
  for (const [way, values] of Object.entries(timings)) {
    values.sort((a, b) => a - b);
    process.stderr.write(
      `intake: ${way === 'inThread' ? 'rendered in the HTTP thread' : 'rendered in the worker, handed over'}: ` +
        `p50 ${percentile(values, 50).toFixed(3)} ms, max ${percentile(values, 100).toFixed(3)} ms ` +
        `from taking in a 200k-socket sample to its first scrape served (${values.length} samples)\n`,
    );
  }
  metrics.close();
  await sampler.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
