/**
 * What taking in one sample costs the HTTP thread, i.e. how long a scrape arriving then may
 * wait: a 200k-socket synthetic table sampled by the daemon's worker, then the sample either
 * rendered in this thread (every format and encoding, as when the worker cannot) or taken as
 * the worker rendered it (a swap of references), each until its first scrape is served
 * (`npm run bench -- --only sample-intake`, docs/reliability.md).
 */
import { join } from 'node:path';
import { COLLECTOR_NAMES, type CollectorName } from '../../src/collectors/registry.js';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { ExporterMetrics } from '../../src/metrics/exporter-metrics.js';
import type { RenderedSample } from '../../src/metrics/sample-exposition.js';
import { expositionWorkerScript } from '../../src/sampler/exposition-worker.js';
import { WorkerSampler } from '../../src/sampler/worker-sampler.js';
import type { BenchContext } from '../lib/context.js';
import { writeSyntheticProcfs } from '../lib/synthetic-table.js';

const SOCKETS = 200_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export async function runSampleIntakePart(context: BenchContext): Promise<void> {
  const samples = context.options.quick ? 10 : 20;
  const table = writeSyntheticProcfs(join(context.scratchDir('intake'), 'procfs'), SOCKETS);
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
    onWorkerDeath: (reason) => context.log(`sample-intake: worker died: ${reason}`),
  });
  // Prometheus' format and encoding, and the text a person reads.
  const scrape = () =>
    Promise.all([metrics.render('openmetrics', 'gzip'), metrics.render('text', 'identity')]);
  await scrape();
  const timings = { inThread: [] as number[], handedOver: [] as number[] };
  for (let i = 0; i < samples; i++) {
    const { snapshot, rendered } = await sampler.sample();
    if (rendered === undefined) throw new Error('the worker did not render the sample');
    // Alternating, so that both ways see the same machine.
    const way = i % 2 === 0 ? 'inThread' : 'handedOver';
    const started = performance.now();
    metrics.update(snapshot, way === 'inThread' ? undefined : rendered);
    await scrape();
    timings[way].push(performance.now() - started);
  }
  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    return { p50Ms: round(percentile(sorted, 50)), maxMs: round(percentile(sorted, 100)) };
  };
  metrics.close();
  await sampler.close();
  context.emit({
    kind: 'sample-intake',
    sockets: SOCKETS,
    samples,
    inThread: summary(timings.inThread),
    handedOver: summary(timings.handedOver),
  });
}
