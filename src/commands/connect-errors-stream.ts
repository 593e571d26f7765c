/**
 * The connect-errors collector's scheduled source, a stream in the daemon: started with it,
 * drained on a short timer with non-blocking reads (a poll costs microseconds when nothing
 * failed), its counts published about once a second, and its tracefs instance removed on stop.
 */
import { CONNECT_ERRORS_STREAM } from '../collectors/connect-errors.js';
import { ConnectErrorStream } from '../sources/connect-errors.js';
import { defineStarter } from './source-runner.js';

/** How often trace_pipe is drained: its ring buffer (1410 KiB a CPU) holds tens of thousands of events. */
const POLL_INTERVAL_MS = 200;
/** Counts (and lost-event counts, from per_cpu stats) are published every 5 polls: the 1 s heartbeat it declares. */
const COUNTS_EVERY_POLLS = 5;

function failureMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Without tracefs, the events or the privilege it logs one error, the collector reports
 * success 0 with the reason, and everything else goes on.
 */
export const connectErrorsStarter = defineStarter({
  source: CONNECT_ERRORS_STREAM,
  start({ config, logger, publish, fail: failed }) {
    const fail = (error: unknown): void => {
      const message = failureMessage(error);
      logger.error(
        { collector: 'connect-errors', error: message },
        'collector failing: connect() and bind() failures are not counted',
      );
      failed(message);
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
      return { stop: () => undefined };
    }
    logger.info(
      { collector: 'connect-errors', instance: stream.path, staleRemoved: stream.staleRemoved },
      'counting connect() and bind() failures',
    );
    // A process that ends without stop() (an uncaught error) still removes its instance.
    const onExit = (): void => stream.close();
    process.once('exit', onExit);
    publish(stream.counts());
    let polls = 0;
    const timer = setInterval(() => {
      try {
        const counted = stream.poll();
        polls++;
        if (counted > 0 || polls % COUNTS_EVERY_POLLS === 0) publish(stream.counts());
      } catch (error) {
        stop();
        fail(error);
      }
    }, POLL_INTERVAL_MS);
    const stop = (): undefined => {
      clearInterval(timer);
      process.off('exit', onExit);
      stream.close();
      return undefined;
    };
    return { stop };
  },
});
