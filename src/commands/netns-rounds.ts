/**
 * The netns collector's scheduled source, its rounds: in the daemon its own worker on
 * --collector.netns.interval, in `--once` one round in this thread.
 */
import { NETNS_ROUNDS } from '../collectors/netns.js';
import type { ExporterConfig } from '../config/flags.js';
import { EPHEMERAL_USE_WARNING_RATIO } from '../doctor/thresholds.js';
import type { Logger } from '../log.js';
import { CollectorHealth, logCollectorTransitions } from '../metrics/collector-health.js';
import { type NetnsWorkerData, netnsWorker } from '../sampler/netns-sampler.js';
import { SampleScheduler } from '../sampler/scheduler.js';
import { sampleTimeoutMs } from '../sampler/worker-sampler.js';
import { NetnsRoundSampler } from '../snapshot/netns-round.js';
import type { NetnsRound } from '../snapshot/netns-view.js';
import { NamespaceSysctlCache } from '../sources/netns-sysctl-cache.js';
import { defineStarter } from './source-runner.js';

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

/** One round in this thread, for `--once`. */
async function netnsRoundOnce(config: ExporterConfig): Promise<NetnsRound> {
  const options = roundOptions(config);
  const sysctls = new NamespaceSysctlCache({ refreshMs: options.sysctlRefreshMs });
  try {
    return await new NetnsRoundSampler(options, sysctls).run();
  } finally {
    sysctls.close();
  }
}

/**
 * The rounds: in their own worker every --collector.netns.interval in the daemon, one in
 * this thread for `--once`. Each round is published with the read failures counted so far.
 */
export const netnsRoundsStarter = defineStarter({
  source: NETNS_ROUNDS,
  start({ config, logger, mode, intervalMs, publish, fail }) {
    const health = new CollectorHealth();
    let readFailures = 0;
    const take = (round: NetnsRound): void => {
      readFailures += round.failures.length;
      publish({ round, readFailures });
      logRound(logger, health, round);
    };
    if (mode === 'once') {
      netnsRoundOnce(config).then(take, (error: unknown) => fail(String(error)));
      return { stop: () => undefined };
    }
    const worker = netnsWorker({
      data: roundOptions(config),
      timeoutMs: sampleTimeoutMs(intervalMs),
      onWorkerDeath: (reason) =>
        logger.error({ reason }, 'netns worker died; the next round starts a new one'),
    });
    const rounds = new SampleScheduler(worker, intervalMs, {
      onSnapshot: take,
      onSkipped() {
        logger.debug('netns round skipped: the previous one is still running');
      },
    });
    rounds.start();
    return { stop: () => rounds.stop() };
  },
});
