/**
 * The one place to tune the alerts and dashboards: which series belong to the exporter,
 * thresholds and how long a condition must hold. Everything under deploy/prometheus and
 * grafana/dashboards is generated from this by `npm run gen:mixin`.
 */

/** A Prometheus duration such as `30s`, `5m`, `1h`. */
export type Duration = `${number}${'s' | 'm' | 'h'}`;

export interface MixinConfig {
  /** Label matchers (without braces) that select the exporter's series and its `up`. */
  readonly selector: string;
  /** Job name used in the example scrape config; must match `selector`. */
  readonly jobName: string;
  /** Address in the example scrape config (the exporter's default port). */
  readonly exampleTarget: string;
  /** Page that holds one heading per alert; alerts link to `<base>#<alert name lowercased>`. */
  readonly runbookBaseUrl: string;
  readonly ephemeral: {
    /** History the trend is fitted to. */
    readonly predictLookback: Duration;
    /** How far ahead the trend may cross the usable count and still page. */
    readonly predictHorizonSeconds: number;
    /** Below this share in use a trend is noise, not a page. */
    readonly predictMinUsedRatio: number;
    readonly predictFor: Duration;
    readonly exhaustedFor: Duration;
    /** Warn when the busiest destination leaves less than this share free. */
    readonly headroomLowRatio: number;
    readonly headroomLowFor: Duration;
  };
  readonly timeWait: {
    /** Warn when TIME_WAIT sockets reach this share of net.ipv4.tcp_max_tw_buckets. */
    readonly bucketRatio: number;
    readonly bucketFor: Duration;
    readonly overflowWindow: Duration;
  };
  readonly paws: {
    readonly rejectsPerSecond: number;
    readonly window: Duration;
    readonly for: Duration;
  };
  readonly listen: {
    readonly overflowsPerSecond: number;
    readonly window: Duration;
    readonly for: Duration;
  };
  readonly closeWait: {
    /** Sockets in CLOSE_WAIT on one port that mean the application is not closing them. */
    readonly sockets: number;
    readonly for: Duration;
  };
  readonly exporter: {
    readonly collectorFailingFor: Duration;
    readonly downFor: Duration;
    readonly absentFor: Duration;
    /** A last sample older than this means the sampler is stuck. */
    readonly sampleStaleSeconds: number;
    readonly stalledFor: Duration;
  };
  readonly grafana: {
    readonly uidPrefix: string;
    readonly tags: readonly string[];
    readonly refresh: string;
    readonly timeFrom: string;
  };
}

export const defaultConfig: MixinConfig = {
  selector: 'job="tcpstate"',
  jobName: 'tcpstate',
  exampleTarget: 'localhost:10120',
  runbookBaseUrl:
    'https://github.com/tcpstate-exporter/tcpstate-exporter/blob/main/docs/runbooks.md',
  ephemeral: {
    predictLookback: '30m',
    predictHorizonSeconds: 3600,
    predictMinUsedRatio: 0.5,
    predictFor: '5m',
    exhaustedFor: '1m',
    headroomLowRatio: 0.25,
    headroomLowFor: '15m',
  },
  timeWait: { bucketRatio: 0.8, bucketFor: '15m', overflowWindow: '5m' },
  paws: { rejectsPerSecond: 1, window: '5m', for: '10m' },
  listen: { overflowsPerSecond: 0, window: '5m', for: '10m' },
  closeWait: { sockets: 100, for: '15m' },
  exporter: {
    collectorFailingFor: '5m',
    downFor: '5m',
    absentFor: '15m',
    sampleStaleSeconds: 60,
    stalledFor: '5m',
  },
  grafana: {
    uidPrefix: 'tcpstate',
    tags: ['tcpstate', 'tcp', 'linux'],
    refresh: '30s',
    timeFrom: 'now-3h',
  },
};
