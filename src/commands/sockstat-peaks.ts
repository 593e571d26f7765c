/**
 * The sockstat collector's scheduled source, its fast readings in the daemon:
 * net/sockstat(6) every --collector.sockstat.fast-interval on the main thread (O(1) files,
 * tens of microseconds a reading), their maxima over --collector.sockstat.peak-window
 * published when they change (renewed otherwise). With --collector.netns, each namespace of
 * the latest round is read too, through `<procfs>/<pid>` of the process the round read it
 * through.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NETNS_ROUNDS } from '../collectors/netns.js';
import { SOCKSTAT_FAST } from '../collectors/sockstat.js';
import { readNamespaceSockstat, readSockstat } from '../sources/sockstat.js';
import { PeakWindow, type SockstatPeaks } from '../sources/sockstat-peaks.js';
import { defineStarter } from './source-runner.js';

export const sockstatFastStarter = defineStarter({
  source: SOCKSTAT_FAST,
  start({ config, logger, intervalMs, store, publish, renew }) {
    const options = config.collectorOptions;
    const window = new PeakWindow(options.sockstatPeakWindowMs);
    /** Per namespace inode, while the latest round has it. */
    const namespaceWindows = new Map<number, PeakWindow>();
    let failing = false;
    let sent = '';
    const readNamespaces = (): Record<string, SockstatPeaks> => {
      const known = store.latest(NETNS_ROUNDS)?.round.namespaces ?? [];
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
      const readings = { node: window.peaks(performance.now()), namespaces: readNamespaces() };
      // Unchanged peaks (the usual case) only renew their time: they cost the metrics nothing.
      const text = JSON.stringify(readings);
      if (text === sent) {
        renew();
        return;
      }
      sent = text;
      publish(readings);
    };
    read();
    const timer = setInterval(read, intervalMs);
    return {
      stop: () => {
        clearInterval(timer);
        return undefined;
      },
    };
  },
});
