/**
 * The long-running exporter (the default command): a sampling worker on a schedule, the HTTP server, and a clean
 * stop on SIGTERM or SIGINT.
 */
import type { AddressInfo } from 'node:net';
import { formatListenAddress, type ListenAddress } from '../cli/flag-parser.js';
import { REGISTRY } from '../collectors/registry.js';
import { EXIT } from '../config/exit-codes.js';
import type { ExporterConfig } from '../config/flags.js';
import { CollectorHealth, logCollectorTransitions } from '../metrics/collector-health.js';
import type { RenderedSample } from '../metrics/sample-exposition.js';
import { expositionWorkerScript } from '../sampler/exposition-worker.js';
import { SampleScheduler } from '../sampler/scheduler.js';
import { sampleTimeoutMs, WorkerSampler } from '../sampler/worker-sampler.js';
import { buildApp, type ExporterApp } from '../server/app.js';
import { SampleHistory } from '../server/sample-history.js';
import { LiveWebConfig } from '../server/web-config-reload.js';
import { exitWithoutJoiningThreads } from './hard-exit.js';
import { type CommandIo, writeProblem } from './io.js';
import { SCHEDULED_SOURCES } from './scheduled-sources.js';
import { type RunningSources, startScheduledSources } from './source-runner.js';
import { startUp } from './startup.js';

/** Whatever happens, the process is gone this long after the stop signal. */
export const SHUTDOWN_DEADLINE_MS = 4_000;

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

function listenProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const known = code === undefined ? undefined : LISTEN_ERRORS[code];
  if (known !== undefined) return `${known} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** Binds; `:port` means every address, IPv6 and IPv4 where the kernel has IPv6, else IPv4. */
async function listen(app: ExporterApp, address: ListenAddress): Promise<AddressInfo> {
  const { port } = address;
  if (address.host !== undefined) {
    await app.listen({ host: address.host, port });
  } else {
    try {
      await app.listen({ host: '::', port });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw error;
      await app.listen({ host: '0.0.0.0', port });
    }
  }
  return app.server.address() as AddressInfo;
}

function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export interface ServeSeams {
  /** The sampler's worker script; tests substitute one that blocks in the kernel. */
  readonly workerScript?: URL;
}

export async function runServe(
  config: ExporterConfig,
  io: CommandIo,
  seams: ServeSeams = {},
): Promise<number> {
  const started = await startUp(config, io, {
    logFd: 1,
    sampleIntervalSeconds: config.sampleIntervalMs / 1000,
  });
  if (started === undefined) return EXIT.failed;
  const { logger, metrics, version, sampleOptions, namespace } = started;
  const health = new CollectorHealth();
  const history = new SampleHistory();
  let webConfig: LiveWebConfig | undefined;
  if (config.webConfigFile !== undefined) {
    try {
      webConfig = await LiveWebConfig.load(config.webConfigFile, logger);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await writeProblem(io, `--web.config.file=${config.webConfigFile}: ${message}`);
      return EXIT.failed;
    }
  }

  // The worker renders each sample's exposition: taking one in here only swaps references.
  const sampler = new WorkerSampler<RenderedSample>({
    sample: sampleOptions,
    ...(namespace !== undefined && { namespaceSysctls: () => namespace.current() }),
    render: { data: metrics.options, request: () => metrics.nextRenderRequest() },
    timeoutMs: sampleTimeoutMs(config.sampleIntervalMs),
    script: seams.workerScript ?? expositionWorkerScript(),
    onWorkerDeath: (reason) => {
      metrics.forgetRenderer();
      logger.error({ reason }, 'sampler worker died; the next sample starts a new one');
    },
  });
  let sources: RunningSources | undefined;
  // A collector that reads no engine source (netns, connect-errors): the sample is not its health.
  const sampledCollectors = REGISTRY.sampled(config.collectors);
  const scheduler = new SampleScheduler(sampler, config.sampleIntervalMs, {
    onSnapshot({ snapshot, rendered }) {
      metrics.update(snapshot, rendered);
      history.record(snapshot);
      sources?.afterSample();
      logCollectorTransitions(
        logger,
        health.observe(REGISTRY.statuses(snapshot, sampledCollectors)),
      );
    },
    onSkipped() {
      metrics.countSkipped();
      logger.debug('sample skipped: the previous one is still running');
    },
  });

  const app = await buildApp(config, {
    metrics,
    logger,
    version,
    history,
    ...(webConfig === undefined ? {} : { webConfig }),
  });
  let bound: AddressInfo;
  try {
    bound = await listen(app, config.listenAddress);
  } catch (error) {
    await app.close();
    await writeProblem(
      io,
      `cannot listen on ${formatListenAddress(config.listenAddress)}: ${listenProblem(error)}`,
    );
    return EXIT.failed;
  }
  const stopSignal = waitForStopSignal();
  // The first sample uses the namespace's own sysctls when they can be read (within ~5 s).
  await namespace?.ready();
  scheduler.start();
  sources = startScheduledSources({
    config,
    logger,
    store: metrics.sources,
    mode: 'serve',
    sources: REGISTRY.startedSources(config.collectors, 'serve'),
    starters: SCHEDULED_SOURCES,
  });
  webConfig?.start();
  logger.info(
    {
      version,
      address: formatListenAddress({ host: bound.address, port: bound.port }),
      tls: webConfig?.current.tls !== undefined,
      basicAuth: (webConfig?.current.users.size ?? 0) > 0,
      config: config.effectiveFlags,
    },
    'tcpstate-exporter started',
  );

  const signal = await stopSignal;
  logger.info({ signal }, 'stopping');
  const deadline = setTimeout(() => {
    logger.warn('stopping took too long; exiting anyway');
    void exitWithoutJoiningThreads(EXIT.ok);
  }, SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  // First (each stop() runs at once): the tracefs instance must not outlive the process.
  const sourcesStopped = sources.stop();
  webConfig?.stop();
  const [threadsEnded, roundThreadsEnded] = await Promise.all([
    scheduler.stop(),
    sourcesStopped,
    app.close(),
  ]);
  metrics.close();
  namespace?.close();
  clearTimeout(deadline);
  if (!threadsEnded || !roundThreadsEnded) {
    // process.exit() would join that thread, and wait for good.
    logger.warn('stopped; a sampler thread is still blocked in the kernel: exiting without it');
    return exitWithoutJoiningThreads(EXIT.ok);
  }
  logger.info('stopped');
  return EXIT.ok;
}
