/**
 * The exporter's private registries. Scrapes never touch procfs, and never format the
 * snapshot either: what depends on the sample is rendered once per sample, per format and
 * encoding, and served as a buffer (concurrent scrapes share one render). The process and
 * Node.js metrics and the skipped-samples counter, which change between samples, are
 * rendered apart every second and appended (gzip: as a second gzip member, which every gzip
 * reader joins): rendering them per scrape cost ~0.7 ms of CPU, 6x a whole /-/healthy. Separate metric objects per exposition format, because prom-client's
 * Registry has one content type and, in OpenMetrics mode, rewrites counter names in place.
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import {
  collectDefaultMetrics,
  Histogram,
  type Metric,
  type OpenMetricsContentType,
  type PrometheusContentType,
  Registry,
} from 'prom-client';
import { sample } from '../collectors/collector.js';
import { type CollectorName, REGISTRY } from '../collectors/registry.js';
import { isSuccessfulSample } from '../snapshot/failed-snapshot.js';
import type { Snapshot } from '../snapshot/model.js';
import type { NetnsRound, NetnsView } from '../snapshot/netns-round.js';
import { registerConstMetric } from './const-metric.js';

export type ExpositionFormat = 'text' | 'openmetrics';
export type ExpositionEncoding = 'identity' | 'gzip';

export interface Exposition {
  readonly contentType: string;
  readonly body: Buffer;
}

type AnyRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

/** Both parts of one format's exposition. */
interface FormatRegistries {
  /** Everything derived from the latest sample. */
  readonly sample: AnyRegistry;
  /** What changes between samples: process_*, nodejs_*, tcpstate_samples_skipped_total. */
  readonly live: AnyRegistry;
}

const OPENMETRICS_EOF = '# EOF\n';

/** How often the live part is re-rendered; a scrape never serves one older than LIVE_MAX_AGE_MS. */
const LIVE_REFRESH_MS = 1_000;
const LIVE_MAX_AGE_MS = 1_500;

interface RenderedLive {
  readonly atMs: number;
  readonly body: Promise<Buffer>;
}

export interface ExporterMetricsOptions {
  readonly collectors: Readonly<Record<CollectorName, boolean>>;
  readonly version: string;
  /** The daemon's --sample.interval; `--once` takes one sample and has none. */
  readonly sampleIntervalSeconds?: number;
}

const SAMPLE_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TABLE_FILES = ['tcp', 'tcp6'] as const;

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

/**
 * prom-client's default process and Node.js metrics, except the gauges it names `*_total`
 * (nodejs_active_handles_total...), which `promtool check metrics` rejects.
 */
function registerDefaultMetrics(registry: AnyRegistry): void {
  const scratch = new Registry();
  collectDefaultMetrics({ register: scratch });
  for (const metric of scratch.getMetricsAsArray()) {
    const misnamed = String(metric.type) !== 'counter' && metric.name.endsWith('_total');
    // getMetricsAsArray() is typed as plain objects, but holds the metric instances.
    if (!misnamed) registry.registerMetric(metric as unknown as Metric);
  }
}

export class ExporterMetrics {
  private latest: Snapshot | undefined;
  private netns: NetnsView | undefined;
  private skipped = 0;
  private readonly malformed: Record<(typeof TABLE_FILES)[number], number> = { tcp: 0, tcp6: 0 };
  private readonly registries: Record<ExpositionFormat, FormatRegistries> = {
    text: { sample: new Registry<PrometheusContentType>(), live: new Registry() },
    openmetrics: { sample: openMetricsRegistry(), live: openMetricsRegistry() },
  };
  private readonly sampleDurations: Histogram[];
  /** The rendered sample part per `format/encoding`, for the latest sample. */
  private readonly rendered = new Map<string, Promise<Buffer>>();
  /** The rendered live part per `format/encoding`. */
  private readonly live = new Map<string, RenderedLive>();
  /** Format/encoding pairs scraped so far: rendered as soon as a sample arrives. */
  private readonly wanted = new Set<string>();
  private liveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ExporterMetricsOptions) {
    this.sampleDurations = Object.values(this.registries).map((registries) =>
      this.register(registries),
    );
  }

  /** The snapshot scrapes are served from, undefined before the first sample. */
  get snapshot(): Snapshot | undefined {
    return this.latest;
  }

  /** Whether the latest sample succeeded (see isSuccessfulSample): the exporter is ready. */
  get ready(): boolean {
    return this.latest !== undefined && isSuccessfulSample(this.latest);
  }

  /** Serves this snapshot from now on and adds its sample to the self metrics. */
  update(snapshot: Snapshot): void {
    this.latest = this.netns === undefined ? snapshot : { ...snapshot, netns: this.netns };
    for (const histogram of this.sampleDurations) histogram.observe(snapshot.durationSeconds);
    const tables = snapshot.sockets;
    if (tables !== undefined) {
      for (const file of TABLE_FILES) this.malformed[file] += tables[file].malformed;
    }
    this.renderAgain();
  }

  /**
   * Serves this round over the other namespaces from now on, with the node's latest
   * snapshot (they come from two workers on two schedules), and counts its failures.
   */
  updateNetns(round: NetnsRound): void {
    const readFailures = (this.netns?.readFailures ?? 0) + round.failures.length;
    this.netns = { round, readFailures };
    if (this.latest === undefined) return;
    this.latest = { ...this.latest, netns: this.netns };
    this.renderAgain();
  }

  private renderAgain(): void {
    this.rendered.clear();
    // Rendered now rather than at the next scrape, so no scrape waits for a render.
    for (const key of this.wanted) void this.renderedSample(key);
  }

  /** Counts a sample that was due while the previous one still ran. */
  countSkipped(): void {
    this.skipped++;
  }

  /** The exposition in `format`, its body compressed when `encoding` is gzip. */
  async render(
    format: ExpositionFormat,
    encoding: ExpositionEncoding = 'identity',
  ): Promise<Exposition> {
    const key = `${format}/${encoding}`;
    this.wanted.add(key);
    this.liveTimer ??= setInterval(() => {
      for (const wanted of this.wanted) this.renderLive(wanted);
    }, LIVE_REFRESH_MS).unref();
    let live = this.live.get(key);
    if (live === undefined || performance.now() - live.atMs > LIVE_MAX_AGE_MS) {
      live = this.renderLive(key);
    }
    const [sampled, liveBody] = await Promise.all([this.renderedSample(key), live.body]);
    return {
      contentType: this.registries[format].live.contentType,
      body: Buffer.concat([sampled, liveBody]),
    };
  }

  /** Stops refreshing the live part. */
  close(): void {
    clearInterval(this.liveTimer);
  }

  private renderLive(key: string): RenderedLive {
    const [format, encoding] = key.split('/') as [ExpositionFormat, ExpositionEncoding];
    const body = this.registries[format].live.metrics().then((text) => {
      // Text format separates families with a blank line, OpenMetrics does not.
      const bytes = Buffer.from(format === 'text' ? `\n${text}` : text);
      return encoding === 'gzip' ? gzipSync(bytes) : bytes;
    });
    const rendered = { atMs: performance.now(), body };
    this.live.set(key, rendered);
    return rendered;
  }

  /** The sample part, rendered once per sample: OpenMetrics' `# EOF` comes with the live part. */
  private renderedSample(key: string): Promise<Buffer> {
    let rendered = this.rendered.get(key);
    if (rendered === undefined) {
      const [format, encoding] = key.split('/') as [ExpositionFormat, ExpositionEncoding];
      rendered = this.registries[format].sample.metrics().then((text) => {
        const body = Buffer.from(
          format === 'openmetrics' ? text.slice(0, -OPENMETRICS_EOF.length) : text,
        );
        return encoding === 'gzip' ? gzipSync(body) : body;
      });
      this.rendered.set(key, rendered);
    }
    return rendered;
  }

  private register({ sample: registry, live }: FormatRegistries): Histogram {
    const { collectors, version, sampleIntervalSeconds } = this.options;
    const read = () => this.latest;
    for (const collector of REGISTRY.collectors) {
      if (!collectors[collector.name]) continue;
      for (const definition of collector.metrics) {
        registerConstMetric(registry, definition, () => {
          const snapshot = this.latest;
          return snapshot === undefined ? undefined : collector.select(snapshot);
        });
      }
    }

    registerConstMetric(
      registry,
      {
        name: 'tcpstate_collector_success',
        help: 'Whether the collector succeeded in the latest sample (1) or failed (0).',
        type: 'gauge',
        labelNames: ['collector'],
        samples: (snapshot) =>
          REGISTRY.statuses(snapshot, collectors).map((status) =>
            sample(status.success ? 1 : 0, { collector: status.name }),
          ),
      },
      read,
    );
    registerConstMetric(
      registry,
      {
        name: 'tcpstate_collector_duration_seconds',
        help: 'Time the source the collector reads took in the latest sample.',
        type: 'gauge',
        labelNames: ['collector'],
        samples: (snapshot) =>
          REGISTRY.statuses(snapshot, collectors).map((status) =>
            sample(status.durationSeconds, { collector: status.name }),
          ),
      },
      read,
    );
    const sampleDuration = new Histogram({
      name: 'tcpstate_sample_duration_seconds',
      help: 'Time one sample of all enabled sources took.',
      buckets: SAMPLE_DURATION_BUCKETS,
      registers: [registry],
    });
    registerConstMetric(
      live,
      {
        name: 'tcpstate_samples_skipped_total',
        help: 'Samples skipped because the previous sample was still running when they were due.',
        type: 'counter',
        samples: (skipped) => [sample(skipped)],
      },
      () => this.skipped,
    );
    registerConstMetric(
      registry,
      {
        name: 'tcpstate_last_sample_timestamp_seconds',
        help: 'Unix time at which the latest sample started.',
        type: 'gauge',
        samples: (snapshot) => [sample(snapshot.timestampMs / 1000)],
      },
      read,
    );
    if (sampleIntervalSeconds !== undefined) {
      // Lets a staleness alert scale with the interval instead of assuming one.
      registerConstMetric(
        registry,
        {
          name: 'tcpstate_sample_interval_seconds',
          help: 'The configured interval between samples of the kernel tables (--sample.interval).',
          type: 'gauge',
          samples: (seconds) => [sample(seconds)],
        },
        () => sampleIntervalSeconds,
      );
    }
    if (collectors.sockets || collectors.ports || collectors.ephemeral) {
      registerConstMetric(
        registry,
        {
          name: 'tcpstate_malformed_lines_total',
          help: 'Lines of /proc/net/tcp and /proc/net/tcp6 skipped as malformed, by file.',
          type: 'counter',
          labelNames: ['file'],
          samples: (malformed) => TABLE_FILES.map((file) => sample(malformed[file], { file })),
        },
        () => this.malformed,
      );
    }
    registerConstMetric(
      registry,
      {
        name: 'tcpstate_build_info',
        help: 'A metric with a constant 1 labelled by the exporter version and the Node.js version.',
        type: 'gauge',
        labelNames: ['version', 'node_version'],
        samples: () => [sample(1, { version, node_version: process.version })],
      },
      () => true,
    );
    registerDefaultMetrics(live);
    return sampleDuration;
  }
}
