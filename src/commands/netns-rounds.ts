/**
 * The netns collector's rounds for serve (its own worker, on --collector.netns.interval)
 * and `--once` (one round in this thread), handed to the metrics beside the node's sample.
 */
import type { ExporterConfig } from '../config/flags.js';
import { EPHEMERAL_USE_WARNING_RATIO } from '../doctor/thresholds.js';
import type { Logger } from '../log.js';
import { CollectorHealth, logCollectorTransitions } from '../metrics/collector-health.js';
import type { ExporterMetrics } from '../metrics/exporter-metrics.js';
import { type NetnsWorkerData, netnsWorker } from '../sampler/netns-sampler.js';
import { SampleScheduler } from '../sampler/scheduler.js';
import { sampleTimeoutMs } from '../sampler/worker-sampler.js';
import { NetnsRoundSampler } from '../snapshot/netns-round.js';
import type { NetnsRound } from '../snapshot/netns-view.js';
import { NamespaceSysctlCache } from '../sources/netns-sysctl-cache.js';

function roundOptions(config: ExporterConfig): NetnsWorkerData {
  const options = config.collectorOptions;
  return {
    procfsRoot: config.procfsRoot,
    podLogsDir: options.podLogsDir,
    max: options.netnsMax,
    topDestinations: options.netnsTopDestinations,
    walkMaxAgeMs: options.netnsWalkMaxAgeMs,
    // Half the warning line: a namespace whose sockets could reach it is walked every round.
    walkUseRatio: EPHEMERAL_USE_WARNING_RATIO / 2,
    sysctlRefreshMs: options.netnsSysctlRefreshMs,
    conntrack: config.collectors.conntrack,
  };
}

/** Logs what a round says once (why sysctls are assumed) and the collector's transitions. */
function logRound(logger: Logger, health: CollectorHealth, round: NetnsRound): void {
  for (const notice of round.notices ?? []) {
    logger.warn(
      { collector: 'netns', reason: notice },
      'namespace sysctls assumed: a new namespace\'s kernel defaults stand in (tcpstate_sysctls_assumed{netns!=""} 1)',
    );
  }
  if (round.failures.length > 0) {
    logger.debug({ failures: round.failures }, 'namespaces failed in this round');
  }
  const status = {
    name: 'netns' as const,
    success: round.error === undefined,
    durationSeconds: round.durationSeconds,
    ...(round.error === undefined ? {} : { error: round.error }),
  };
  logCollectorTransitions(logger, health.observe([status]));
}

/** The rounds of a running exporter; start() them with the node's scheduler, stop() with it. */
export function netnsRounds(
  config: ExporterConfig,
  logger: Logger,
  metrics: ExporterMetrics,
): SampleScheduler<NetnsRound> {
  const intervalMs = config.collectorOptions.netnsIntervalMs;
  const worker = netnsWorker({
    data: roundOptions(config),
    timeoutMs: sampleTimeoutMs(intervalMs),
    onWorkerDeath: (reason) =>
      logger.error({ reason }, 'netns worker died; the next round starts a new one'),
  });
  const health = new CollectorHealth();
  return new SampleScheduler(worker, intervalMs, {
    onSnapshot(round) {
      metrics.updateNetns(round);
      logRound(logger, health, round);
    },
    onSkipped() {
      logger.debug('netns round skipped: the previous one is still running');
    },
  });
}

/** One round in this thread, for `--once`. */
export async function netnsRoundOnce(config: ExporterConfig, logger: Logger): Promise<NetnsRound> {
  const options = roundOptions(config);
  const sysctls = new NamespaceSysctlCache({ refreshMs: options.sysctlRefreshMs });
  try {
    const round = await new NetnsRoundSampler(options, sysctls).run();
    logRound(logger, new CollectorHealth(), round);
    return round;
  } finally {
    sysctls.close();
  }
}
