/**
 * The sockstat collector's fast readings for serve: net/sockstat(6) every
 * --collector.sockstat.fast-interval on the main thread (O(1) files, tens of microseconds a
 * reading), their maxima over --collector.sockstat.peak-window handed to the metrics. With
 * --collector.netns, each namespace of the latest round is read too, through
 * `<procfs>/<pid>` of the process the round read it through.
 * Kept apart from the sampler so that it can move onto a scheduled-source contract as is.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ExporterConfig } from '../config/flags.js';
import type { Logger } from '../log.js';
import type { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { readNamespaceSockstat, readSockstat } from '../sources/sockstat.js';
import { PeakWindow, type SockstatPeaks } from '../sources/sockstat-peaks.js';

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
  /** Per namespace inode, while the latest round has it. */
  const namespaceWindows = new Map<number, PeakWindow>();
  let failing = false;
  let sent = '';
  const readNamespaces = (): Record<string, SockstatPeaks> => {
    const known = config.collectors.netns ? metrics.roundNamespaces : [];
    const present = new Set(known.map((namespace) => namespace.inode));
    for (const inode of namespaceWindows.keys()) {
      if (!present.has(inode)) namespaceWindows.delete(inode);
    }
    const peaks: Record<string, SockstatPeaks> = {};
    for (const { inode, pid } of known) {
      let stat: ReturnType<typeof readNamespaceSockstat>;
      try {
        stat = readNamespaceSockstat(join(config.procfsRoot, String(pid)));
      } catch {
        // Its process exited: the next round finds another one, or drops the namespace.
        stat = undefined;
      }
      let own = namespaceWindows.get(inode);
      if (stat !== undefined) {
        if (own === undefined) {
          own = new PeakWindow(options.sockstatPeakWindowMs);
          namespaceWindows.set(inode, own);
        }
        own.observe(performance.now(), stat);
      }
      if (own !== undefined) peaks[inode] = own.peaks(performance.now());
    }
    return peaks;
  };
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
    const namespaceSockstatPeaks = readNamespaces();
    // Unchanged peaks (the usual case) cost the metrics nothing.
    const text = JSON.stringify([peaks, namespaceSockstatPeaks]);
    if (text === sent) return;
    sent = text;
    metrics.updateStreams({ sockstatPeaks: peaks, namespaceSockstatPeaks });
  };
  read();
  const timer = setInterval(read, options.sockstatFastIntervalMs);
  return { stop: () => clearInterval(timer) };
}
