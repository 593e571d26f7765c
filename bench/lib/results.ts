/** What the bench prints (one JSON object per line with --json) and the report reads. */

export type Phase = 'synthetic' | 'real';

/** Every tool measured; `decoder`, `parser` and `naive-parse` work on text already in memory. */
export const TOOLS = [
  'cat',
  'read-only',
  'engine',
  'decoder',
  'parser',
  'naive',
  'naive-parse',
  'ss-awk',
  'node-exporter',
] as const;
export type Tool = (typeof TOOLS)[number];

export const TOOL_LABELS: Readonly<Record<Tool, string>> = {
  cat: '`cat /proc/net/tcp{,6}`',
  'read-only': 'read() loop in Node, no decoding',
  engine: 'tcpstate-exporter sample',
  decoder: 'line decoder alone on cached text',
  parser: 'line decoder + aggregation on cached text',
  naive: 'naive `split` parser (reads the files)',
  'naive-parse': 'naive `split` parser on cached text',
  'ss-awk': "`ss -tan \\| awk '{print $1}' \\| sort \\| uniq -c`",
  'node-exporter': 'node_exporter 1.5 tcpstat scrape',
};

export interface MachineInfo {
  readonly kind: 'machine';
  readonly cpus: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly node: string;
  readonly memoryBytes: number;
  readonly loadAverageAtStart: readonly number[];
  readonly commit: string;
  readonly startedAt: string;
  readonly tools: Readonly<Record<string, string>>;
  /** What the run was asked to measure: a page is only written from a whole run. */
  readonly run: {
    readonly quick: boolean;
    readonly sizes: readonly number[];
    readonly parts: readonly string[];
  };
}

/** CPU and wall time per sample of one tool at one table size. */
export interface CostMeasurement {
  readonly kind: 'cost';
  readonly phase: Phase;
  readonly tool: Tool;
  /** Requested table size. */
  readonly size: number;
  /** Sockets the table held when measured (per sample). */
  readonly sockets: number;
  /** Table text per sample (both files), 0 when the tool does not read it. */
  readonly bytes: number;
  readonly runs: number;
  /** Means per sample. */
  readonly cpuSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  /** Median per sample. */
  readonly wallSeconds: number;
  readonly cpuMicrosPerSocket: number;
  /** CPU of this tool / CPU of cat on the same table in the same run. */
  readonly cpuRatioToCat: number;
  readonly wallRatioToCat: number;
  /** Table bytes per CPU second, for the tools that parse text. */
  readonly gigabytesPerSecond?: number;
  /**
   * The same in the fastest run, where runs were timed one by one: what the code does
   * when nothing else on this shared machine slows it (noise only ever adds time).
   */
  readonly fastestGigabytesPerSecond?: number;
}

/** Memory of a fresh process sampling an empty table, then a table of `size` sockets. */
export interface MemoryMeasurement {
  readonly kind: 'memory';
  readonly size: number;
  readonly samples: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly arrayBuffersBytes: number;
  readonly rssGrowthBytes: number;
  readonly heapUsedGrowthBytes: number;
  readonly arrayBuffersGrowthBytes: number;
}

/** Where the engine's CPU goes on the largest table of a kind (V8 sampling profiler). */
export interface ProfileMeasurement {
  readonly kind: 'profile';
  readonly table: Phase;
  readonly size: number;
  readonly function: string;
  readonly location: string;
  readonly selfShare: number;
}

/** The daemon serving /metrics while it samples. */
export interface DaemonMeasurement {
  readonly kind: 'daemon';
  readonly size: number;
  readonly source: Phase;
  /** Sockets in the daemon's latest sample (sum of tcpstate_sockets). */
  readonly sockets: number;
  readonly samples: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  readonly requests?: number;
  readonly errors?: number;
  readonly connections?: number;
  readonly durationSeconds?: number;
}

/** How long one command takes from exec to exit, against `node -e 0` in the same run. */
export interface ColdStartMeasurement {
  readonly kind: 'cold-start';
  /** `this tree`, or the baseline revision. */
  readonly build: string;
  /** What ran, e.g. `node -e 0` or `main.js --once` (on a small fixture tree). */
  readonly command: string;
  readonly runs: number;
  /** Median per run. */
  readonly wallSeconds: number;
  /** Mean user + system per run. */
  readonly cpuSeconds: number;
  /** This command over `node -e 0`. */
  readonly wallRatioToNode: number;
  readonly cpuRatioToNode: number;
}

/** Mean CPU and median wall time of one round. */
export interface RoundCost {
  readonly cpuSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly wallSeconds: number;
}

/**
 * One round over every namespace of a spread table: `size` sockets in all over
 * `namespaces` namespaces, read with the engine and with cat of the same files.
 */
export interface NetnsMeasurement {
  readonly kind: 'netns';
  readonly namespaces: number;
  readonly size: number;
  /** Sockets the engine saw over all namespaces in its last round. */
  readonly sockets: number;
  /** TCP sockets on the whole machine (the hash every read walks), when readable. */
  readonly machineSockets?: number;
  readonly runs: number;
  readonly engine: RoundCost;
  readonly cat: RoundCost;
}

/** /metrics of the daemon with --collector.netns while its rounds run back to back. */
export interface NetnsScrapeMeasurement {
  readonly kind: 'netns-scrape';
  readonly namespaces: number;
  readonly size: number;
  /** Namespaces the daemon exported (the table's and any other on the machine). */
  readonly exported: number;
  readonly bodyBytes: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly requests: number;
  readonly roundSeconds: number;
}

/** Ranking the top destinations and remote ports: SocketAccumulator.finish() at one K. */
export interface TopKMeasurement {
  readonly kind: 'top-k';
  readonly k: number;
  /** Destinations the accumulator ranked, and how many of them it kept (K at most). */
  readonly destinations: number;
  readonly kept: number;
  readonly runs: number;
  readonly medianMs: number;
}

/** One daemon's CPU over a window: ms of CPU per second of wall time. */
export interface DaemonCpu {
  readonly msPerSecond: number;
  /** Namespaces the latest round exported (the machine's, not only the bench's). */
  readonly namespaces?: number;
  /** Its first round did not end in time: measured anyway. */
  readonly noRound?: boolean;
}

/**
 * What --collector.netns adds to the daemon's CPU with `idle` idle namespaces beside one
 * holding `busySockets`: the daemon alone, with netns rounds every second, and the same for
 * the baseline revision when the run has one.
 */
export interface NetnsIdleMeasurement {
  readonly kind: 'netns-idle';
  readonly idle: number;
  readonly busySockets: number;
  readonly windowSeconds: number;
  readonly alone: DaemonCpu;
  readonly withNetns: DaemonCpu;
  readonly baseline?: { readonly revision: string; readonly withNetns: DaemonCpu };
}

/** Request latencies, in ms. */
export interface LatencySummary {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly requests: number;
}

/**
 * The daemon serving a 200k-socket table sampled every second: throughput of /metrics
 * against /-/healthy, then both at 10 requests/s each, and two floors answering the same
 * gzip body the same way (a bare node:http server, nginx when installed).
 */
export interface FootprintScrape {
  readonly kind: 'footprint-scrape';
  /** `this tree`, or the baseline revision. */
  readonly build: string;
  readonly sockets: number;
  readonly healthyPerSecond: number;
  readonly metricsPerSecond: number;
  readonly metricsNon2xx: number;
  readonly bodyBytes: number;
  /** Timed by curl --rate (false: a Node.js loop, which adds its own latency). */
  readonly timedByCurl: boolean;
  /** CPU of the HTTP thread while sampling every second and serving 20 requests/s. */
  readonly mainThreadCpuMsPerSecond: number;
  readonly metrics: LatencySummary;
  readonly healthy: LatencySummary;
  /** By floor: `node:http`, `nginx`. */
  readonly floors: Readonly<Record<string, LatencySummary>>;
}

/** VmRSS at the end of a window, its anonymous and file-backed parts, and its peak, in MiB. */
export interface RssReading {
  readonly rssMiB: number;
  readonly anonMiB: number;
  readonly fileMiB: number;
  readonly peakMiB: number;
}

/**
 * RSS after 30 samples and scrapes a second apart in one namespace: the daemon,
 * node_exporter's tcpstat collector, and the prescribed stack doing nothing.
 */
export interface FootprintMemory {
  readonly kind: 'footprint-memory';
  readonly build: string;
  readonly where: 'idle' | 'real table';
  /** Sockets the daemon counted (sum of tcpstate_sockets). */
  readonly sockets: number;
  readonly ours: RssReading;
  readonly nodeExporter: RssReading;
  readonly floor: RssReading;
}

/** A process's fds, threads and RSS at one second of a soak. */
export interface SoakFigures {
  readonly second: number;
  readonly fds: number;
  readonly threads: number;
  readonly rssMiB: number;
}

/** The daemon sampled fast and scraped 10 times a second while net/snmp flaps. */
export interface SoakMeasurement {
  readonly kind: 'soak';
  readonly seconds: number;
  readonly interval: string;
  readonly warmUpSeconds: number;
  readonly samples: number;
  readonly scrapes: number;
  readonly failedScrapes: number;
  readonly first: SoakFigures;
  readonly last: SoakFigures;
  readonly maxRssMiB: number;
}

/**
 * From taking in a sample to its first scrapes served, in the HTTP thread: rendered there
 * (as when the worker cannot) or handed over as the worker rendered it; alternating.
 */
export interface SampleIntakeMeasurement {
  readonly kind: 'sample-intake';
  readonly sockets: number;
  readonly samples: number;
  readonly inThread: { readonly p50Ms: number; readonly maxMs: number };
  readonly handedOver: { readonly p50Ms: number; readonly maxMs: number };
}

/** A loopback /metrics scrape without auth, with a cached basic-auth verdict, with bcrypt each time. */
export interface BasicAuthMeasurement {
  readonly kind: 'basic-auth';
  /** Scrapes per case; medians below. */
  readonly rounds: number;
  readonly noAuthMs: number;
  readonly cachedMs: number;
  /** The slowest cached-case scrape: the first, which pays bcrypt. */
  readonly cachedFirstMs: number;
  readonly bcryptEveryTimeMs: number;
}

/**
 * One loop in a lab namespace with the connect-errors collector's tracefs events off and on,
 * alternated round by round: the time of one call in each round, in ns.
 */
export interface TracerMeasurement {
  readonly kind: 'tracer';
  /** `getppid()`, or `connect()+close()` on loopback. */
  readonly loop: string;
  readonly calls: number;
  readonly offNs: readonly number[];
  readonly onNs: readonly number[];
}

/**
 * CPU of one fast sockstat reading (`net/sockstat` and `net/sockstat6`, the daemon's reader):
 * the node's own, or through `/proc/<pid>/net` of `namespaces` lab namespaces, alternated
 * with the node's in each round. ms per reading in each round, `readings` readings a round.
 */
export interface SockstatFastMeasurement {
  readonly kind: 'sockstat-fast';
  /** 0: the node's own `/proc/net`. */
  readonly namespaces: number;
  readonly readings: number;
  readonly msPerRound: readonly number[];
}

/**
 * Reading a namespace's sysctls through the nsenter reader (src/sources/netns-sysctl.ts), in
 * ms: a first read (a new reader: its shell is started), reads through a kept shell, a round
 * of `namespaces` namespaces through the cache `concurrency` at once with the event loop's
 * delay during it and idle, and the alternative of spawning one nsenter per read from Node.
 */
export interface NsenterMeasurement {
  readonly kind: 'nsenter';
  readonly firstMs: readonly number[];
  readonly keptMs: readonly number[];
  readonly namespaces: number;
  readonly concurrency: number;
  readonly roundMs: number;
  readonly idleDelay: { readonly p50Ms: number; readonly p99Ms: number };
  readonly roundDelay: { readonly p50Ms: number; readonly p99Ms: number };
  /** One `execFile('nsenter', ...)` per read: the read, and how long the call held the loop. */
  readonly spawnMs: readonly number[];
  readonly spawnBlockedMs: readonly number[];
}

/** How long one part took (a part run in two steps, like daemon, has two). */
export interface PartTime {
  readonly kind: 'part-time';
  readonly part: string;
  readonly seconds: number;
}

/** A snat sample of a conntrack table against `cat` of it (bench/conntrack/). */
export interface ConntrackMeasurement {
  readonly kind: 'conntrack';
  /** A file on tmpfs, or a namespace's own table of NATed flows. */
  readonly table: 'synthetic' | 'real';
  /** `this tree`, or `baseline REV`. */
  readonly build: string;
  readonly entries: number;
  readonly bytes: number;
  readonly natted: number;
  readonly runs: number;
  /** Means per sample, but the wall time: its median. */
  readonly engineCpuSeconds: number;
  readonly engineSystemSeconds: number;
  readonly engineWallSeconds: number;
  readonly catCpuSeconds: number;
  readonly cpuRatioToCat: number;
  /** How long filling the real table took. */
  readonly fillSeconds?: number;
}

/** Printed last: how long the run took and how busy the machine was by then. */
export interface RunEnd {
  readonly kind: 'end';
  readonly durationSeconds: number;
  readonly loadAverageAtEnd: readonly number[];
}

/** Something the bench could not do, said out loud in the report. */
export interface BenchNote {
  readonly kind: 'note';
  readonly phase: string;
  readonly text: string;
}

/** Table composition as the kernel counted it around a round of real measurements. */
export interface TableMeasurement {
  readonly kind: 'table';
  readonly size: number;
  readonly round: number;
  readonly ipv4Sockets: number;
  readonly ipv6Sockets: number;
  readonly timeWait: number;
  readonly established: number;
  readonly timeWaitBefore: number;
  readonly timeWaitAfter: number;
  readonly buildSeconds: number;
  /** TCP sockets of other namespaces on the machine: the kernel's walk passes them too. */
  readonly otherSockets?: number;
  /** The engine's CPU over cat's in this round alone. */
  readonly engineToCat?: number;
}

export type BenchRecord =
  | MachineInfo
  | CostMeasurement
  | MemoryMeasurement
  | ProfileMeasurement
  | DaemonMeasurement
  | ColdStartMeasurement
  | TableMeasurement
  | NetnsMeasurement
  | NetnsScrapeMeasurement
  | TopKMeasurement
  | NetnsIdleMeasurement
  | FootprintScrape
  | FootprintMemory
  | SoakMeasurement
  | SampleIntakeMeasurement
  | BasicAuthMeasurement
  | TracerMeasurement
  | SockstatFastMeasurement
  | NsenterMeasurement
  | PartTime
  | ConntrackMeasurement
  | BenchNote
  | RunEnd;
