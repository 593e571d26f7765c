/**
 * The connect-errors collector's stream for serve: started with the daemon, drained on a
 * short timer with non-blocking reads (a poll costs microseconds when nothing failed), its
 * counts handed to the metrics like a netns round, and its tracefs instance removed on stop.
 * Kept apart from the sampler so that it can move onto a scheduled-source contract as is.
 */
import type { ExporterConfig } from '../config/flags.js';
import type { Logger } from '../log.js';
import type { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { ConnectErrorStream } from '../sources/connect-errors.js';

/** How often trace_pipe is drained: its ring buffer (1410 KiB a CPU) holds tens of thousands of events. */
const POLL_INTERVAL_MS = 200;
/** Lost-event counts come from per_cpu stats: read about once a second even when nothing failed. */
const COUNTS_EVERY_POLLS = 5;

export interface RunningStream {
  stop(): void;
}

function failureMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts counting. Without tracefs, the events or the privilege it logs one error, the
 * collector reports success 0 with the reason, and everything else goes on.
 */
export function startConnectErrorStream(
  config: ExporterConfig,
  logger: Logger,
  metrics: ExporterMetrics,
): RunningStream {
  const fail = (error: unknown): void => {
    const message = failureMessage(error);
    logger.error(
      { collector: 'connect-errors', error: message },
      'collector failing: connect() and bind() failures are not counted',
    );
    metrics.updateStreams({
      connectErrors: { series: [], lostEvents: 0, pollSeconds: 0, error: message },
    });
  };
  const options = config.collectorOptions;
  let stream: ConnectErrorStream;
  try {
    stream = ConnectErrorStream.start({
      procfsRoot: config.procfsRoot,
      tracefsPath: options.connectErrorsTracefs,
      podLogsDir: options.podLogsDir,
      maxNamespaces: options.connectErrorsMaxNamespaces,
    });
  } catch (error) {
    fail(error);
    return { stop() {} };
  }
  logger.info(
    { collector: 'connect-errors', instance: stream.path, staleRemoved: stream.staleRemoved },
    'counting connect() and bind() failures',
  );
  // A process that ends without stop() (an uncaught error) still removes its instance.
  const onExit = (): void => stream.close();
  process.once('exit', onExit);
  metrics.updateStreams({ connectErrors: stream.counts() });
  let polls = 0;
  const timer = setInterval(() => {
    try {
      const counted = stream.poll();
      polls++;
      if (counted > 0 || polls % COUNTS_EVERY_POLLS === 0) {
        metrics.updateStreams({ connectErrors: stream.counts() });
      }
    } catch (error) {
      stop();
      fail(error);
    }
  }, POLL_INTERVAL_MS);
  const stop = (): void => {
    clearInterval(timer);
    process.off('exit', onExit);
    stream.close();
  };
  return { stop };
}
