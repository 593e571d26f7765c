/**
 * The one place to tune the alerts and dashboards: which series belong to the exporter, which
 * labels name a cluster and a host, thresholds and how long a condition must hold. The rules
 * and dashboards are generated from this by `npm run gen:mixin` (docs/alerts.md).
 *
 * Thresholds come from src/doctor/thresholds.ts, so an alert and `tcpstate-exporter doctor`
 * call the same figure a warning or critical; the reasons for each value are written there.
 * What only the rules need (windows, `for` durations) is set here, with its reason.
 */
import {
  BIND_FIRST_HELD_WARNING_RATIO,
  CLOSE_WAIT_WARNING,
  CONNTRACK_ENTRIES_WARNING_RATIO,
  EPHEMERAL_USE_CRITICAL_RATIO,
  EPHEMERAL_USE_WARNING_RATIO,
  ORPHANS_CRITICAL_RATIO,
  ORPHANS_WARNING_RATIO,
  PAWS_WARNING_PER_SECOND,
  SNAT_USE_CRITICAL_RATIO,
  SNAT_USE_WARNING_RATIO,
  SYN_COOKIES_WARNING_PER_SECOND,
  TIME_WAIT_BUCKETS_WARNING_RATIO,
} from '../src/doctor/thresholds.js';

/** A Prometheus duration such as `30s`, `5m`, `1h`. */
export type Duration = `${number}${'s' | 'm' | 'h'}`;

export interface MixinConfig {
  /** Label matchers (without braces) that select the exporter's series and its `up`. */
  readonly selector: string;
  /**
   * The label that names a cluster where several Prometheus servers meet (their
   * `external_labels`, through remote write or federation). Every join, aggregation and
   * dashboard keeps it; where no series has it, it matches the empty value and changes nothing.
   */
  readonly clusterLabel: string;
  /** Labels that name a group of exporters (a scrape job): fleet panels show one group. */
  readonly groupLabels: readonly string[];
  /** Labels that name one exporter within a group: host panels show one, alerts name it. */
  readonly instanceLabels: readonly string[];
  /** Job name used in the example scrape config; must match `selector`. */
  readonly jobName: string;
  /** Address in the example scrape config (the exporter's default port). */
  readonly exampleTarget: string;
  /** Page that holds one heading per alert; alerts link to `<base>#<alert name lowercased>`. */
  readonly runbookBaseUrl: string;
  /** Window of the rates the recording rules keep (alerts and fleet panels read them). */
  readonly rateWindow: Duration;
  /**
   * Gauge alerts test the highest (or lowest) value over this window, so a condition that
   * flaps across its threshold from one scrape to the next stays held; shorter than every
   * `for` it precedes, so a burst shorter than `for` minus this window stays quiet.
   */
  readonly flapWindow: Duration;
  /** Pages stay firing this long after a dip, so one outage is one notification. */
  readonly keepFiringFor: Duration;
  readonly ephemeral: {
    /** Blocking share of the usable ports toward one destination: warning, then critical. */
    readonly warningRatio: number;
    readonly criticalRatio: number;
    /** Exhausted: 100 % touched within the flap window and at least this share now. */
    readonly exhaustedFloorRatio: number;
    readonly exhaustedFor: Duration;
    readonly criticalFor: Duration;
    readonly headroomLowFor: Duration;
    /** No usable port at all (the whole range reserved): every connect() fails. */
    readonly unusableFor: Duration;
    /** Held ports against usable: the limit of clients that bind() first. */
    readonly heldWarningRatio: number;
    readonly heldFor: Duration;
  };
  readonly timeWait: {
    /** TIME_WAIT sockets against net.ipv4.tcp_max_tw_buckets. */
    readonly bucketWarningRatio: number;
    readonly bucketFor: Duration;
    readonly overflowWindow: Duration;
  };
  readonly paws: {
    readonly rejectsPerSecond: number;
    readonly for: Duration;
  };
  readonly listen: {
    readonly overflowsPerSecond: number;
    readonly for: Duration;
    /** A listening port with connections waiting while accept queues overflow. */
    readonly queueFullFor: Duration;
  };
  readonly synQueue: {
    readonly dropsPerSecond: number;
    readonly cookiesPerSecond: number;
    /** Cookies warn only above this many times the host's own rate over the baseline window. */
    readonly cookiesSurgeFactor: number;
    readonly cookiesBaseline: Duration;
    readonly for: Duration;
  };
  /** Connections stuck in SYN_SENT toward one remote port: the upstream is down or black-holed. */
  readonly synSent: { readonly sockets: number; readonly for: Duration };
  readonly orphans: {
    readonly warningRatio: number;
    readonly criticalRatio: number;
    readonly for: Duration;
  };
  /** Sockets stuck in CLOSE_WAIT (followed by inode across samples) on one port. */
  readonly closeWaitStuck: { readonly sockets: number; readonly for: Duration };
  readonly memory: {
    /** TCP memory at the pressure level (the kernel leaves pressure only below tcp_mem's min)... */
    readonly pressureFor: Duration;
    /** ...or entering pressure this many times within `entriesWindow`. */
    readonly pressureEntries: number;
    readonly entriesWindow: Duration;
    readonly exhaustedFor: Duration;
    /** TCPAbortOnMemory also counts orphans killed: only a lasting rate warns. */
    readonly abortsFor: Duration;
  };
  /**
   * The netns collector's own alerts (rounds, dropped namespaces, sysctls it could not read);
   * a pod's ports and queues are the node's alerts with the pod's labels.
   */
  readonly pods: {
    /** Namespaces left out beyond --collector.netns.max: lasting, not one crowded round. */
    readonly droppedFor: Duration;
    readonly sysctlsAssumedFor: Duration;
    /** No new round over the namespaces for this long: every pod figure is frozen. */
    readonly roundStaleSeconds: number;
    readonly roundStalledFor: Duration;
  };
  readonly exporter: {
    readonly collectorFailingFor: Duration;
    readonly downFor: Duration;
    readonly absentFor: Duration;
    /** Stale when the last sample is older than this many intervals plus the slack. */
    readonly staleIntervals: number;
    /** Covers the scrape interval: the timestamp is only as fresh as the last scrape. */
    readonly staleSlackSeconds: number;
    readonly stalledFor: Duration;
  };
  /** The kernel counters of the netstat collector (mixin/counter-alerts.ts). */
  readonly counters: {
    /** Rates over this window: a drop every other minute is the same trouble as one a minute. */
    readonly window: Duration;
    readonly for: Duration;
    /** Connections aborted by their timers against the connections opened. */
    readonly timeoutAbortShare: number;
    /** ...and at least this many in the window, so an idle host's one vanished peer is quiet. */
    readonly timeoutAbortsMin: number;
    /** Segments dropped per second on arrival (backlog, receive queue). */
    readonly dropsPerSecond: number;
  };
  /** The conntrack and snat collectors' series (mixin/conntrack-alerts.ts). */
  readonly conntrack: {
    /** NAT ports held toward one destination against the usable: warning, then critical. */
    readonly snatWarningRatio: number;
    readonly snatCriticalRatio: number;
    readonly snatWarningFor: Duration;
    readonly snatCriticalFor: Duration;
    /** Held after the condition clears, so a share flapping around a level keeps one alert. */
    readonly snatKeepFiringFor: Duration;
    readonly entriesWarningRatio: number;
    readonly entriesFor: Duration;
    readonly dropsWindow: Duration;
    readonly dropsFor: Duration;
  };
  /** The connect-errors collector's counted failures (mixin/connect-errors-alerts.ts). */
  readonly connectErrors: {
    /** A failure counted in this window pages; long enough for several 1 m evaluations. */
    readonly window: Duration;
    /** bind() EADDRINUSE is also a server retrying a busy port: only a lasting one warns. */
    readonly bindFor: Duration;
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
  clusterLabel: 'cluster',
  groupLabels: ['job'],
  instanceLabels: ['instance'],
  jobName: 'tcpstate',
  exampleTarget: 'localhost:10120',
  runbookBaseUrl:
    'https://github.com/tcpstate-exporter/tcpstate-exporter/blob/main/docs/runbooks.md',
  rateWindow: '5m',
  // Eight scrapes at the usual 15 s, two evaluations at 1 m.
  flapWindow: '2m',
  keepFiringFor: '10m',
  ephemeral: {
    warningRatio: EPHEMERAL_USE_WARNING_RATIO,
    criticalRatio: EPHEMERAL_USE_CRITICAL_RATIO,
    // At the limit ports are freed and retaken at once: the share touches 100 % and dips a
    // few ports below it from one scrape to the next.
    exhaustedFloorRatio: 0.99,
    // A minute of connect() failing is already user-visible 502s.
    exhaustedFor: '1m',
    // Five minutes above the critical share is not a one-scrape burst.
    criticalFor: '5m',
    headroomLowFor: '15m',
    // A configuration, not a load: a restart's one sample of zeros must not page.
    unusableFor: '5m',
    // Never a page, as in doctor: /proc cannot show whether any client binds first, and a
    // client closing first toward loopback, which connect() survives, holds ports with
    // reusable TIME_WAIT. Doctor's info level (half held) is no alert at all.
    heldWarningRatio: BIND_FIRST_HELD_WARNING_RATIO,
    heldFor: '15m',
  },
  timeWait: {
    // Only a warning: past the limit the kernel skips TIME_WAIT, which frees ports.
    bucketWarningRatio: TIME_WAIT_BUCKETS_WARNING_RATIO,
    bucketFor: '15m',
    overflowWindow: '5m',
  },
  paws: { rejectsPerSecond: PAWS_WARNING_PER_SECOND, for: '10m' },
  // Any sustained overflow is a dropped connection; the 10 m `for` keeps one burst quiet.
  listen: {
    overflowsPerSecond: 0,
    for: '10m',
    queueFullFor: '5m',
  },
  // A SYN dropped at a full SYN queue is a lost connection attempt, as a listen overflow is.
  // Cookies are the kernel absorbing a flood: an internet-facing host sends them all day, so
  // only a surge above its own rate of the last hours warns, and a lasting one becomes the baseline.
  synQueue: {
    dropsPerSecond: 0,
    cookiesPerSecond: SYN_COOKIES_WARNING_PER_SECOND,
    cookiesSurgeFactor: 3,
    cookiesBaseline: '6h',
    for: '10m',
  },
  // A SYN_SENT socket lives one round trip, or ~2 minutes of retries toward a silent peer:
  // 20 held for 5 minutes is a black hole, not latency.
  synSent: { sockets: 20, for: '5m' },
  orphans: {
    warningRatio: ORPHANS_WARNING_RATIO,
    criticalRatio: ORPHANS_CRITICAL_RATIO,
    for: '5m',
  },
  // The count alone is no signal (pools hold idle CLOSE_WAIT, busy servers rate x dwell):
  // the exporter follows each socket and counts those stuck past its own delay. A warning:
  // a pool that keeps dead connections is stuck too, and harms nothing yet.
  closeWaitStuck: { sockets: CLOSE_WAIT_WARNING, for: '15m' },
  // The kernel's own levels (tcp_mem pressure and max) are the thresholds. Entries are counted
  // over a window well beyond `for`: with equal ones, entries must come in every window.
  memory: {
    pressureFor: '5m',
    pressureEntries: 2,
    entriesWindow: '15m',
    exhaustedFor: '3m',
    abortsFor: '10m',
  },
  pods: {
    // Pods come and go; a node crowded past the limit for half an hour stays so.
    droppedFor: '30m',
    // Sysctls are re-read on a refresh interval; one failed read is no finding.
    sysctlsAssumedFor: '30m',
    // 15 rounds at the default --collector.netns.interval of 60 s: raise it with the interval.
    roundStaleSeconds: 900,
    roundStalledFor: '5m',
  },
  exporter: {
    collectorFailingFor: '5m',
    downFor: '5m',
    absentFor: '15m',
    staleIntervals: 3,
    staleSlackSeconds: 60,
    stalledFor: '5m',
  },
  counters: {
    window: '10m',
    // Longer than a deploy or a backup run: a quarter of an hour of it is how the host runs.
    for: '15m',
    // One connection in a hundred ends on a timeout: peers that vanish (a network path or a
    // middlebox losing flows), not the odd mobile client; busy hosts see far less.
    timeoutAbortShare: 0.01,
    timeoutAbortsMin: 10,
    // Each dropped segment is retransmitted after an RTO (200 ms or more): one a second for
    // a quarter of an hour is latency users see; a burst of them is not worth a message.
    dropsPerSecond: 1,
  },
  conntrack: {
    snatWarningRatio: SNAT_USE_WARNING_RATIO,
    snatCriticalRatio: SNAT_USE_CRITICAL_RATIO,
    snatWarningFor: '15m',
    // As the ephemeral critical: five minutes above the level is not a one-scrape burst.
    snatCriticalFor: '5m',
    snatKeepFiringFor: '10m',
    entriesWarningRatio: CONNTRACK_ENTRIES_WARNING_RATIO,
    entriesFor: '15m',
    // Each refused flow is a connect() timing out; 5 m of them is no single burst.
    dropsWindow: '5m',
    dropsFor: '5m',
  },
  connectErrors: {
    window: '5m',
    bindFor: '10m',
  },
  grafana: {
    uidPrefix: 'tcpstate',
    tags: ['tcpstate', 'tcp', 'linux'],
    refresh: '30s',
    timeFrom: 'now-3h',
  },
};

/**
 * The defaults with a user's overrides (parsed JSON) merged in: objects key by key, any other
 * value replaced whole. An unknown key or a value of another type throws, naming it.
 */
export function withOverrides(overrides: unknown, base: MixinConfig = defaultConfig): MixinConfig {
  return mergeInto(base, overrides, 'config') as MixinConfig;
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value;
}

function mergeInto(base: unknown, override: unknown, where: string): unknown {
  if (kind(override) !== kind(base)) {
    throw new Error(`${where}: expected ${kind(base)}, got ${kind(override)}`);
  }
  if (Array.isArray(base) && Array.isArray(override)) {
    override.forEach((item, index) => {
      if (base.length > 0) mergeInto(base[0], item, `${where}[${index}]`);
    });
    return override;
  }
  if (kind(base) !== 'object') return override;
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override as Record<string, unknown>)) {
    if (!(key in merged)) throw new Error(`${where}.${key}: no such setting`);
    merged[key] = mergeInto(merged[key], value, `${where}.${key}`);
  }
  return merged;
}
