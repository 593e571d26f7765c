/**
 * The sockstat collector's fast readings for serve: net/sockstat(6) every
 * --collector.sockstat.fast-interval on the main thread (O(1) files, tens of microseconds a
 * reading), their maxima over --collector.sockstat.peak-window handed to the metrics.
 * Kept apart from the sampler so that it can move onto a scheduled-source contract as is.
 */
import { performance } from 'node:perf_hooks';
import type { ExporterConfig } from '../config/flags.js';
import type { Logger } from '../log.js';
import type { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { readSockstat } from '../sources/sockstat.js';
import { PeakWindow } from '../sources/sockstat-peaks.js';

export interface RunningPeaks {
  stop(): void;
}

export function startSockstatPeaks(
  config: ExporterConfig,
  logger: Logger,
  metrics: ExporterMetrics,
): RunningPeaks {
  const options = config.collectorOptions;
  const window = new PeakWindow(options.sockstatPeakWindowMs);
  let failing = false;
  let sent = '';
  const read = (): void => {
    try {
      window.observe(performance.now(), readSockstat(config.procfsRoot));
      failing = false;
    } catch (error) {
      // The node's sample reads the same files and reports the collector failing.
      if (!failing) logger.debug({ error: String(error) }, 'sockstat fast reading failed');
      failing = true;
      return;
    }
    const peaks = window.peaks(performance.now());
    // Unchanged peaks (the usual case) cost the metrics nothing.
    const text = JSON.stringify(peaks);
    if (text === sent) return;
    sent = text;
    metrics.updateStreams({ sockstatPeaks: peaks });
  };
  read();
  const timer = setInterval(read, options.sockstatFastIntervalMs);
  return { stop: () => clearInterval(timer) };
}
