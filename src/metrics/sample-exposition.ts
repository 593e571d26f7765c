/**
 * The part of the exposition that changes only with a sample, rendered once per sample in
 * every format and encoding. The daemon renders it in the sampling worker, which hands the
 * bytes over without a copy (see worker-sampler.ts), so taking in a sample costs the HTTP
 * thread a swap of references; `--once`, tests and samples that failed in the worker's
 * place render it in the calling thread with the same code. What it counts across samples
 * (durations, malformed lines) is plain data, SampleTotals, which the caller owns and hands
 * in with each sample: a worker that dies takes nothing with it.
 *
 * Separate metric objects per exposition format, because prom-client's Registry has one
 * content type and, in OpenMetrics mode, rewrites counter names in place.
 */
import { gzipSync } from 'node:zlib';
import type {
  OpenMetricsContentType,
  PrometheusContentType,
  RegistryContentType,
} from 'prom-client';
import { type ConstMetricDefinition, labelled } from '../collectors/collector.js';
import type { AnyCollector, CollectorStatus } from '../collectors/collector-set.js';
import { acrossNamespaces, type NamespaceFeeds } from '../collectors/namespace-labels.js';
import { netnsCollector } from '../collectors/netns.js';
import { type CollectorName, REGISTRY } from '../collectors/registry.js';
import type { Snapshot } from '../snapshot/model.js';
import type { NamespaceSample } from '../snapshot/netns-view.js';
import { isExhausted } from '../snapshot/socket-tables.js';
import type { ServedResults } from '../sources/scheduled-source.js';
import {
  emptyHistogram,
  type HistogramCounts,
  observe,
  registerConstHistogram,
  registerConstMetric,
} from './const-metric.js';
import { Registry } from './prom-client.js';

export type ExpositionFormat = 'text' | 'openmetrics';
export type ExpositionEncoding = 'identity' | 'gzip';
export type ExpositionKey = `${ExpositionFormat}/${ExpositionEncoding}`;

export const EXPOSITION_FORMATS: readonly ExpositionFormat[] = ['text', 'openmetrics'];
export const EXPOSITION_KEYS: readonly ExpositionKey[] = [
  'text/identity',
  'text/gzip',
  'openmetrics/identity',
  'openmetrics/gzip',
];

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

export interface ExpositionOptions {
  readonly collectors: Readonly<Record<CollectorName, boolean>>;
  readonly version: string;
  /** The daemon's --sample.interval; `--once` takes one sample and has none. */
  readonly sampleIntervalSeconds?: number;
}

const TABLE_FILES = ['tcp', 'tcp6'] as const;
type TableFile = (typeof TABLE_FILES)[number];

/** What the exposition counts over every sample so far. */
export interface SampleTotals {
  readonly durations: HistogramCounts;
  readonly malformed: Readonly<Record<TableFile, number>>;
  /** Samples in which connect() had no usable port left toward some destination. */
  readonly exhausted: number;
}

/** What a worker rendering the next sample needs from the HTTP thread. */
export interface ExpositionRequest {
  readonly totals: SampleTotals;
  /** The scheduled sources' results that changed since the last request. */
  readonly scheduled?: ServedResults;
}

const SAMPLE_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function emptyTotals(): SampleTotals {
  return {
    durations: emptyHistogram(SAMPLE_DURATION_BUCKETS),
    malformed: { tcp: 0, tcp6: 0 },
    exhausted: 0,
  };
}

/** Whether the sample saw a destination that connect() could not reach from a new port. */
function exhausted(snapshot: Snapshot): boolean {
  const ephemeral = snapshot.sockets?.ephemeral;
  return ephemeral !== undefined && isExhausted(ephemeral);
}

/** The totals with `snapshot` counted in. */
export function addSample(totals: SampleTotals, snapshot: Snapshot): SampleTotals {
  const tables = snapshot.sockets;
  return {
    durations: observe(totals.durations, snapshot.durationSeconds),
    malformed:
      tables === undefined
        ? totals.malformed
        : {
            tcp: totals.malformed.tcp + tables.tcp.malformed,
            tcp6: totals.malformed.tcp6 + tables.tcp6.malformed,
          },
    exhausted: totals.exhausted + (exhausted(snapshot) ? 1 : 0),
  };
}

/**
 * One body per format and encoding, each on an ArrayBuffer of its own, so that all four can
 * be transferred to another thread without detaching anything else.
 */
export type RenderedExposition = Readonly<Record<ExpositionKey, Uint8Array>>;

/** A sample's exposition, rendered with the totals that include it. */
export interface RenderedSample {
  readonly totals: SampleTotals;
  readonly exposition: RenderedExposition;
}

/** The ArrayBuffers to move, not copy, with postMessage(). */
export function transferList(exposition: RenderedExposition): ArrayBuffer[] {
  return EXPOSITION_KEYS.map((key) => exposition[key].buffer as ArrayBuffer);
}

/** `bytes` on an ArrayBuffer that holds nothing else (Node pools small buffers). */
function owned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}

/** An empty registry for each exposition format. */
export function registryPerFormat(): Record<ExpositionFormat, Registry<RegistryContentType>> {
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return { text: new Registry<PrometheusContentType>(), openmetrics: openMetrics };
}

const OPENMETRICS_EOF = '# EOF\n';
const encoder = new TextEncoder();

/** The current sample and totals, read by the registries' metrics while they render. */
interface Frame {
  snapshot: Snapshot | undefined;
  totals: SampleTotals;
}

/** The collectors an exposition renders: the registry's, or a list with fakes in tests. */
export interface RenderedCollectors {
  readonly collectors: readonly AnyCollector[];
  statuses(snapshot: Snapshot, enabled: Readonly<Record<string, boolean>>): CollectorStatus[];
}

export class SampleExposition {
  private readonly frame: Frame = { snapshot: undefined, totals: emptyTotals() };
  private readonly registries: Record<ExpositionFormat, Registry<RegistryContentType>>;

  constructor(options: ExpositionOptions, collectors: RenderedCollectors = REGISTRY) {
    this.registries = registryPerFormat();
    for (const registry of Object.values(this.registries)) {
      registerSampleMetrics(registry, options, collectors, this.frame);
    }
  }

  /**
   * Every format and encoding of `snapshot` with `totals`. Without a snapshot, the metrics
   * that need none (build info, interval, totals): what is served before the first sample.
   * The OpenMetrics body lacks its `# EOF`: the exporter appends the live part after it.
   */
  async render(snapshot: Snapshot | undefined, totals: SampleTotals): Promise<RenderedExposition> {
    this.frame.snapshot = snapshot;
    this.frame.totals = totals;
    // Both registries read the frame synchronously when metrics() is called, so a render
    // started later cannot change what this one shows.
    const [text, openMetrics] = await Promise.all([
      this.registries.text.metrics(),
      this.registries.openmetrics.metrics(),
    ]);
    const textBytes = encoder.encode(text);
    const openMetricsBytes = encoder.encode(openMetrics.slice(0, -OPENMETRICS_EOF.length));
    return {
      'text/identity': owned(textBytes),
      'text/gzip': owned(gzipSync(textBytes)),
      'openmetrics/identity': owned(openMetricsBytes),
      'openmetrics/gzip': owned(gzipSync(openMetricsBytes)),
    };
  }
}

/** The exported namespaces of the latest round; none while it failed or has not run. */
function roundNamespaces(snapshot: Snapshot): readonly NamespaceSample[] {
  return netnsCollector.select(snapshot)?.round.namespaces ?? [];
}

/**
 * A family of the node's data, and with --collector.netns of every namespace's too when
 * `feeds.namespace` is given: one family, the namespaces a label (docs/namespaces.md).
 */
function registerFamily<Data>(
  registry: Registry<RegistryContentType>,
  definition: ConstMetricDefinition<Data>,
  feeds: Omit<NamespaceFeeds<Data>, 'namespace' | 'namespaces'> &
    Partial<Pick<NamespaceFeeds<Data>, 'namespace'>>,
  netns: boolean,
  frame: Frame,
): void {
  const { namespace } = feeds;
  if (netns && namespace !== undefined) {
    const family = acrossNamespaces(definition, {
      node: feeds.node,
      namespace,
      namespaces: roundNamespaces,
    });
    registerConstMetric(registry, family, () => frame.snapshot);
    return;
  }
  registerConstMetric(registry, definition, () => {
    const snapshot = frame.snapshot;
    return snapshot === undefined ? undefined : feeds.node(snapshot);
  });
}

function registerSampleMetrics(
  registry: Registry<RegistryContentType>,
  { collectors, version, sampleIntervalSeconds }: ExpositionOptions,
  rendered: RenderedCollectors,
  frame: Frame,
): void {
  const read = () => frame.snapshot;
  for (const collector of rendered.collectors) {
    if (!collectors[collector.name as CollectorName]) continue;
    for (const definition of collector.metrics) {
      registerFamily(
        registry,
        definition,
        {
          node: collector.select,
          ...(collector.selectNamespace !== undefined && {
            namespace: collector.selectNamespace,
          }),
        },
        collectors.netns,
        frame,
      );
    }
  }

  registerConstMetric(
    registry,
    {
      name: 'tcpstate_collector_success',
      help: 'Whether the collector succeeded in the latest sample (1) or failed (0).',
      type: 'gauge',
      labelNames: ['collector'],
      values: (snapshot) =>
        rendered
          .statuses(snapshot, collectors)
          .map((status) => labelled(status.success ? 1 : 0, { collector: status.name })),
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
      values: (snapshot) =>
        rendered
          .statuses(snapshot, collectors)
          .map((status) => labelled(status.durationSeconds, { collector: status.name })),
    },
    read,
  );
  registerConstHistogram(
    registry,
    {
      name: 'tcpstate_sample_duration_seconds',
      help: 'Time one sample of all enabled sources took.',
    },
    () => frame.totals.durations,
  );
  registerConstMetric(
    registry,
    {
      name: 'tcpstate_last_sample_timestamp_seconds',
      help: 'Unix time at which the latest sample started.',
      type: 'gauge',
      values: (snapshot) => [labelled(snapshot.timestampMs / 1000)],
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
        values: (seconds) => [labelled(seconds)],
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
        values: (malformed) => TABLE_FILES.map((file) => labelled(malformed[file], { file })),
      },
      () => frame.totals.malformed,
    );
  }
  if (collectors.ephemeral) {
    // A gauge sampled every few seconds misses an exhaustion shorter than the scrape interval; increase() of this does not.
    const exhaustedSamples: ConstMetricDefinition<number> = {
      name: 'tcpstate_ephemeral_exhausted_samples_total',
      help: "Samples in which some destination had no usable ephemeral port left (tcpstate_ephemeral_ports_used_max >= tcpstate_ephemeral_ports_usable): a new connect() to it would have failed with EADDRNOTAVAIL. Times --sample.interval, about the time spent exhausted; a namespace's counts its rounds instead (times --collector.netns.interval).",
      type: 'counter',
      values: (count) => [labelled(count)],
    };
    if (collectors.netns) {
      const feeds = {
        node: () => frame.totals.exhausted,
        namespace: (namespace: NamespaceSample) => namespace.exhaustedRounds,
      };
      registerFamily(registry, exhaustedSamples, feeds, true, frame);
    } else {
      // Before the first sample too, as the other totals.
      registerConstMetric(registry, exhaustedSamples, () => frame.totals.exhausted);
    }
  }
  if (collectors.ephemeral || collectors.sysctl) {
    registerFamily(
      registry,
      {
        name: 'tcpstate_sysctls_assumed',
        help: "1 when the namespace's sysctls could not be read (--path.procfs=/proc/<pid>, or a namespace of --collector.netns, without CAP_SYS_ADMIN to enter it) and a new namespace's kernel defaults stand in for them in tcpstate_sysctl and the ephemeral figures, else 0.",
        type: 'gauge',
        values: (assumed: boolean) => [labelled(assumed ? 1 : 0)],
      },
      {
        node: (snapshot) => snapshot.sysctlsAssumed === true,
        namespace: (namespace) => namespace.sysctlsAssumed,
      },
      collectors.netns,
      frame,
    );
  }
  registerConstMetric(
    registry,
    {
      name: 'tcpstate_build_info',
      help: 'A metric with a constant 1 labelled by the exporter version and the Node.js version.',
      type: 'gauge',
      labelNames: ['version', 'node_version'],
      values: () => [labelled(1, { version, node_version: process.version })],
    },
    () => true,
  );
}
