/**
 * The exporter's private registries. Scrapes format the latest snapshot (held here) and never
 * touch procfs. Two registries with separate metric objects, one per exposition format,
 * because prom-client's Registry has one content type and, in OpenMetrics mode, rewrites
 * counter names in place.
 */
import {
  collectDefaultMetrics,
  Histogram,
  type Metric,
  type OpenMetricsContentType,
  type PrometheusContentType,
  Registry,
} from 'prom-client';
import { isSuccessfulSample } from '../sampler/failed-snapshot.js';
import type { Snapshot } from '../snapshot/model.js';
import type { CollectorName } from './collector-names.js';
import { COLLECTORS, type CollectorDefinition, collectorStatuses } from './collectors.js';
import { registerConstMetric, sample } from './const-metric.js';

export type ExpositionFormat = 'text' | 'openmetrics';

export interface Exposition {
  readonly contentType: string;
  readonly body: string;
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
function registerDefaultMetrics(
  registry: Registry<PrometheusContentType> | Registry<OpenMetricsContentType>,
): void {
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
  private succeeded = false;
  private skipped = 0;
  private readonly malformed: Record<(typeof TABLE_FILES)[number], number> = { tcp: 0, tcp6: 0 };
  private readonly text = new Registry<PrometheusContentType>();
  private readonly openMetrics = openMetricsRegistry();
  private readonly sampleDurations: Histogram[];

  constructor(private readonly options: ExporterMetricsOptions) {
    this.sampleDurations = [this.text, this.openMetrics].map((registry) => this.register(registry));
  }

  /** The snapshot scrapes are served from, undefined before the first sample. */
  get snapshot(): Snapshot | undefined {
    return this.latest;
  }

  /** True once a successful sample has been served: the exporter is ready. */
  get ready(): boolean {
    return this.succeeded;
  }

  /** Serves this snapshot from now on and adds its sample to the self metrics. */
  update(snapshot: Snapshot): void {
    this.latest = snapshot;
    if (isSuccessfulSample(snapshot)) this.succeeded = true;
    for (const histogram of this.sampleDurations) histogram.observe(snapshot.durationSeconds);
    const tables = snapshot.sockets;
    if (tables !== undefined) {
      for (const file of TABLE_FILES) this.malformed[file] += tables[file].malformed;
    }
  }

  /** Counts a sample that was due while the previous one still ran. */
  countSkipped(): void {
    this.skipped++;
  }

  async render(format: ExpositionFormat): Promise<Exposition> {
    const registry = format === 'openmetrics' ? this.openMetrics : this.text;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  private register(
    registry: Registry<PrometheusContentType> | Registry<OpenMetricsContentType>,
  ): Histogram {
    const { collectors, version, sampleIntervalSeconds } = this.options;
    const read = () => this.latest;
    for (const collector of COLLECTORS as readonly CollectorDefinition<unknown>[]) {
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
          collectorStatuses(snapshot, collectors).map((status) =>
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
          collectorStatuses(snapshot, collectors).map((status) =>
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
      registry,
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
    registerDefaultMetrics(registry);
    return sampleDuration;
  }
}
