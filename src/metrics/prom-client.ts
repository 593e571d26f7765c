/**
 * The parts of prom-client the exporter uses, required file by file. Its index also loads
 * the Pushgateway (http, https), the cluster aggregator and, for the process CPU counters'
 * exemplars (never enabled here), @opentelemetry/api: about half of `node -e 0` again at
 * every start of the CLI and of each worker (docs/benchmarks.md, "Cold start").
 * test/metrics/prom-client.test.ts checks that these give the index's default metrics.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry') as typeof PromClient.Registry;
export type Registry<
  ContentType extends PromClient.RegistryContentType = PromClient.PrometheusContentType,
> = PromClient.Registry<ContentType>;
export const Counter = load('prom-client/lib/counter') as typeof PromClient.Counter;

type DefaultMetric = (
  registry: PromClient.Registry<PromClient.RegistryContentType>,
  config: PromClient.DefaultMetricsCollectorConfiguration<PromClient.RegistryContentType>,
) => void;

/** prom-client's default metrics after process CPU, in its order (lib/defaultMetrics.js). */
const DEFAULT_METRICS = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
] as const;

/** process_cpu_*_seconds_total as prom-client's processCpuTotal counts them, without exemplars. */
function registerProcessCpu(registry: PromClient.Registry<PromClient.RegistryContentType>): void {
  let last = process.cpuUsage();
  // One collect() sets all three, as in prom-client.
  const user = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers: [registry],
    collect() {
      const now = process.cpuUsage();
      const userSeconds = (now.user - last.user) / 1e6;
      const systemSeconds = (now.system - last.system) / 1e6;
      last = now;
      user.inc(userSeconds);
      system.inc(systemSeconds);
      total.inc(userSeconds + systemSeconds);
    },
  });
  const system = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    registers: [registry],
  });
  const total = new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers: [registry],
  });
}

/** What prom-client's collectDefaultMetrics({ register: registry }) registers. */
export function collectDefaultMetrics(
  registry: PromClient.Registry<PromClient.RegistryContentType>,
): void {
  registerProcessCpu(registry);
  for (const name of DEFAULT_METRICS) {
    const register = load(`prom-client/lib/metrics/${name}`) as DefaultMetric;
    register(registry, { register: registry, eventLoopMonitoringPrecision: 10 });
  }
}
