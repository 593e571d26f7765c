/**
 * The exporter's exposition: the part that changes with each sample (sample-exposition.ts),
 * rendered once per sample, and the live part (process_*, nodejs_* and the
 * skipped-samples counter), which changes between samples and is rendered every second in
 * this thread, where the heap and event loop it describes are (rendering it per scrape cost
 * ~0.7 ms of CPU, 6x a whole /-/healthy). A scrape is served the two joined as one buffer,
 * built once per sample or live refresh and shared by every scrape until the next (gzip:
 * two gzip members, which every gzip reader joins).
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import type { Metric, RegistryContentType } from 'prom-client';
import { labelled } from '../collectors/collector.js';
import { isSuccessfulSample } from '../snapshot/failed-snapshot.js';
import type { Snapshot } from '../snapshot/model.js';
import { registerConstMetric } from './const-metric.js';
import { collectDefaultMetrics, Registry } from './prom-client.js';
import {
  addSample,
  CONTENT_TYPES,
  EXPOSITION_FORMATS,
  type ExpositionEncoding,
  type ExpositionFormat,
  type ExpositionKey,
  type ExpositionOptions,
  type ExpositionRequest,
  emptyTotals,
  type RenderedCollectors,
  type RenderedExposition,
  type RenderedSample,
  registryPerFormat,
  SampleExposition,
  type SampleTotals,
} from './sample-exposition.js';
import { SourceStore } from './source-store.js';

export type { ExpositionEncoding, ExpositionFormat } from './sample-exposition.js';
export type ExporterMetricsOptions = ExpositionOptions;

export interface Exposition {
  readonly contentType: string;
  readonly body: Buffer;
}

/** How often the live part is re-rendered; a scrape never serves one older than LIVE_MAX_AGE_MS. */
const LIVE_REFRESH_MS = 1_000;
const LIVE_MAX_AGE_MS = 1_500;

/** One format's live part, rendered at `atMs`; compressed once, when first wanted. */
interface RenderedLive {
  readonly atMs: number;
  readonly identity: Promise<Buffer>;
  gzip?: Buffer;
}

/** A scrape's whole body and the two parts it was joined from. */
interface Joined {
  readonly sample: Uint8Array;
  readonly live: Buffer;
  readonly exposition: Exposition;
  /** What it was joined from, as render() finds them: while both stay, it is served as is. */
  readonly sampleBodies: Promise<RenderedExposition>;
  readonly liveRendered: RenderedLive;
}

/**
 * prom-client's default process and Node.js metrics, except the gauges it names `*_total`
 * (nodejs_active_handles_total...), which `promtool check metrics` rejects.
 */
function registerDefaultMetrics(registry: Registry<RegistryContentType>): void {
  const scratch = new Registry();
  collectDefaultMetrics(scratch);
  for (const metric of scratch.getMetricsAsArray()) {
    const misnamed = String(metric.type) !== 'counter' && metric.name.endsWith('_total');
    // getMetricsAsArray() is typed as plain objects, but holds the metric instances.
    if (!misnamed) registry.registerMetric(metric as unknown as Metric);
  }
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class ExporterMetrics {
  private latest: Snapshot | undefined;
  /** The scheduled sources' latest results, served with each sample. */
  readonly sources = new SourceStore();
  /** Whether the bodies served now were rendered in this thread rather than by the worker. */
  private renderedHere = true;
  private totals: SampleTotals = emptyTotals();
  private skipped = 0;
  /** Renders samples in this thread: `--once`, tests, and samples that failed in the worker's place. */
  private inThread: SampleExposition | undefined;
  /** The latest sample's exposition; before the first, one without a sample, rendered when scraped. */
  private sampleBodies: Promise<RenderedExposition> | undefined;
  /** The live part per format: process_*, nodejs_*, tcpstate_samples_skipped_total. */
  private readonly liveRegistries: Record<ExpositionFormat, Registry<RegistryContentType>>;
  private readonly live = new Map<ExpositionFormat, RenderedLive>();
  /** Formats and encodings scraped so far: only those are kept rendered. */
  private readonly wanted = new Set<ExpositionKey>();
  private readonly joined = new Map<ExpositionKey, Joined>();
  private liveTimer: NodeJS.Timeout | undefined;

  /** `collectors`: those rendered in this thread (tests add fakes; the worker renders the registry's). */
  constructor(
    readonly options: ExporterMetricsOptions,
    private readonly collectors?: RenderedCollectors,
  ) {
    this.sources.onPublish(() => this.refreshSideData());
    this.liveRegistries = registryPerFormat();
    for (const registry of Object.values(this.liveRegistries)) {
      registerConstMetric(
        registry,
        {
          name: 'tcpstate_samples_skipped_total',
          help: 'Samples skipped because the previous sample was still running when they were due.',
          type: 'counter',
          values: (skipped) => [labelled(skipped)],
        },
        () => this.skipped,
      );
      registerDefaultMetrics(registry);
    }
  }

  /** The snapshot scrapes are served from, undefined before the first sample. */
  get snapshot(): Snapshot | undefined {
    return this.latest;
  }

  /** Whether the latest sample succeeded (see isSuccessfulSample): the exporter is ready. */
  get ready(): boolean {
    return this.latest !== undefined && isSuccessfulSample(this.latest);
  }

  /** What the exposition counts over the samples so far; a worker rendering the next one starts from it. */
  get sampleTotals(): SampleTotals {
    return this.totals;
  }

  /**
   * What the sampling worker needs to render the next sample as this thread would: the
   * totals, and the scheduled results that changed since the previous request (it keeps the
   * others), so that a netns round crosses to it once, however many samples it serves.
   */
  nextRenderRequest(): ExpositionRequest {
    const scheduled = this.sources.changes();
    return { totals: this.totals, ...(scheduled !== undefined && { scheduled }) };
  }

  /** The sampling worker is gone (it died or was abandoned): its successor gets every result anew. */
  forgetRenderer(): void {
    this.sources.resend();
  }

  /**
   * Serves this snapshot from now on, with the scheduled sources' latest results.
   * Rendered elsewhere (by the sampling worker, from nextRenderRequest), only references change
   * hands; otherwise it is rendered in this thread.
   */
  update(snapshot: Snapshot, rendered?: RenderedSample): void {
    this.latest = this.withSideData(snapshot);
    this.renderedHere = rendered === undefined;
    if (rendered === undefined) {
      this.totals = addSample(this.totals, snapshot);
      this.sampleBodies = this.renderInThread(this.latest);
    } else {
      this.totals = rendered.totals;
      this.sampleBodies = Promise.resolve(rendered.exposition);
    }
  }

  /** The snapshot with what the scheduled sources bring, judged fresh or stale now. */
  private withSideData(snapshot: Snapshot): Snapshot {
    const scheduled = this.sources.served();
    return Object.keys(scheduled).length === 0 ? snapshot : { ...snapshot, scheduled };
  }

  private refreshSideData(): void {
    if (this.latest === undefined) return;
    this.latest = this.withSideData(this.latest);
    // Where the worker renders samples, the new data comes out with the next one.
    if (this.renderedHere) this.sampleBodies = this.renderInThread(this.latest);
  }

  /** Counts a sample that was due while the previous one still ran. */
  countSkipped(): void {
    this.skipped++;
  }

  /**
   * The exposition in `format`, its body compressed when `encoding` is gzip. Scrapes between
   * two samples and live refreshes get the same Buffer.
   */
  async render(
    format: ExpositionFormat,
    encoding: ExpositionEncoding = 'identity',
  ): Promise<Exposition> {
    const key: ExpositionKey = `${format}/${encoding}`;
    if (!this.wanted.has(key)) {
      this.wanted.add(key);
      this.liveTimer ??= setInterval(() => this.refreshLive(), LIVE_REFRESH_MS).unref();
    }
    let live = this.live.get(format);
    if (live === undefined || performance.now() - live.atMs > LIVE_MAX_AGE_MS) {
      live = this.renderLive(format);
    }
    this.sampleBodies ??= this.renderInThread(undefined);
    let joined = this.joined.get(key);
    // Most scrapes: nothing changed since the last one, no promise to wait for.
    if (joined?.sampleBodies === this.sampleBodies && joined.liveRendered === live) {
      return joined.exposition;
    }
    const sampleBodiesPromise = this.sampleBodies;
    const [sampleBodies, liveText] = await Promise.all([sampleBodiesPromise, live.identity]);
    const sampleBody = sampleBodies[key];
    let liveBody = liveText;
    if (encoding === 'gzip') {
      live.gzip ??= gzipSync(liveText);
      liveBody = live.gzip;
    }
    joined = this.joined.get(key);
    if (joined?.sample !== sampleBody || joined.live !== liveBody) {
      joined = {
        sample: sampleBody,
        live: liveBody,
        exposition: {
          contentType: CONTENT_TYPES[format],
          body: Buffer.concat([bufferOf(sampleBody), liveBody]),
        },
        sampleBodies: sampleBodiesPromise,
        liveRendered: live,
      };
    } else {
      joined = { ...joined, sampleBodies: sampleBodiesPromise, liveRendered: live };
    }
    this.joined.set(key, joined);
    return joined.exposition;
  }

  /** Stops refreshing the live part. */
  close(): void {
    clearInterval(this.liveTimer);
  }

  private renderInThread(snapshot: Snapshot | undefined): Promise<RenderedExposition> {
    this.inThread ??= new SampleExposition(this.options, this.collectors);
    return this.inThread.render(snapshot, this.totals);
  }

  private refreshLive(): void {
    for (const format of EXPOSITION_FORMATS) {
      if (!this.wanted.has(`${format}/identity`) && !this.wanted.has(`${format}/gzip`)) continue;
      const live = this.renderLive(format);
      // Compressed now, between scrapes, rather than by the first scrape that wants it.
      if (this.wanted.has(`${format}/gzip`)) {
        void live.identity.then((identity) => {
          live.gzip ??= gzipSync(identity);
        });
      }
    }
  }

  private renderLive(format: ExpositionFormat): RenderedLive {
    // Text format separates families with a blank line, OpenMetrics does not.
    const identity = this.liveRegistries[format]
      .metrics()
      .then((text) => Buffer.from(format === 'text' ? `\n${text}` : text));
    const rendered: RenderedLive = { atMs: performance.now(), identity };
    this.live.set(format, rendered);
    return rendered;
  }
}
