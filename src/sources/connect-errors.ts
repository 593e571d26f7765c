/**
 * Counted connect() and bind() failures (docs/connect-errors.md): a stream source. A private
 * tracefs instance emits one line per connect() that failed with EADDRNOTAVAIL and per bind()
 * that failed with EADDRINUSE (filtered in the kernel); poll() drains its trace_pipe without
 * blocking and attributes each event to its thread's network namespace at once. counts() is
 * plain data: it crosses a worker boundary by structured clone.
 */
import { performance } from 'node:perf_hooks';
import { type Attribution, NamespaceAttributor } from './netns-attribution.js';
import { LineSplitter, parseTraceLine } from './trace-pipe.js';
import { type TracedEvent, TracefsInstance } from './tracefs-instance.js';

/** The failures counted: the syscall, the errno it returned, its name. */
export const COUNTED_FAILURES = [
  { syscall: 'connect', errno: 99, name: 'EADDRNOTAVAIL' },
  { syscall: 'bind', errno: 98, name: 'EADDRINUSE' },
] as const;

export type CountedSyscall = (typeof COUNTED_FAILURES)[number]['syscall'];

/** The `netns` label of events whose thread exited before it could be attributed. */
export const EXITED_NETNS = 'exited';
/** The `netns` label of namespaces beyond the series bound. */
export const OTHER_NETNS = 'other';

export interface FailureSeries {
  readonly syscall: CountedSyscall;
  readonly errno: string;
  /** The namespace inode, EXITED_NETNS or OTHER_NETNS. */
  readonly netns: string;
  readonly pod: string;
  readonly namespace: string;
  readonly container: string;
  readonly count: number;
}

export interface ConnectErrorCounts {
  /** One per syscall and namespace that failed at least once, in order of first failure. */
  readonly series: readonly FailureSeries[];
  /** Events the ring buffer lost (per_cpu stats): failures that happened but were not counted. */
  readonly lostEvents: number;
  /** Time the latest drain of trace_pipe took, attribution included. */
  readonly pollSeconds: number;
  /** Set when the stream could not start: the collector fails with it. */
  readonly error?: string;
}

export interface ConnectErrorStreamOptions {
  readonly procfsRoot: string;
  readonly tracefsPath: string;
  readonly podLogsDir: string;
  /** Namespaces with series of their own; failures in more are summed into `netns="other"`. */
  readonly maxNamespaces: number;
}

const TRACED_EVENTS: readonly TracedEvent[] = COUNTED_FAILURES.map(({ syscall, errno }) => ({
  event: `syscalls/sys_exit_${syscall}`,
  filter: `ret == -${errno}`,
}));

/** At most this much is drained per poll, so that a flood never holds the thread long. */
const POLL_MAX_BYTES = 256 * 1024;

type MutableSeries = { -readonly [Key in keyof FailureSeries]: FailureSeries[Key] };

export class ConnectErrorStream {
  private readonly series = new Map<string, MutableSeries>();
  private readonly namespaces = new Set<string>();
  private readonly splitter = new LineSplitter();
  private readonly buffer = Buffer.allocUnsafe(POLL_MAX_BYTES);
  private readonly attributor: NamespaceAttributor;
  /** LOST lines trace_pipe printed, beyond what per_cpu stats say. */
  private lostLines = 0;
  private pollSeconds = 0;

  private constructor(
    private readonly instance: TracefsInstance,
    private readonly options: ConnectErrorStreamOptions,
    /** Stale instances removed at start, for the log. */
    readonly staleRemoved: readonly string[],
  ) {
    this.attributor = new NamespaceAttributor(options.procfsRoot, options.podLogsDir);
  }

  /** Starts counting; throws a SourceError saying why it cannot (no tracefs, no privilege). */
  static start(options: ConnectErrorStreamOptions): ConnectErrorStream {
    const { instance, staleRemoved } = TracefsInstance.open(options.tracefsPath, TRACED_EVENTS);
    return new ConnectErrorStream(instance, options, staleRemoved);
  }

  /** Where the instance lives. */
  get path(): string {
    return this.instance.path;
  }

  /** Drains what trace_pipe holds now and counts it; never waits. Returns the events counted. */
  poll(): number {
    const started = performance.now();
    let counted = 0;
    const lines = this.splitter.push(this.instance.read(this.buffer).toString('latin1'));
    const attributed = new Map<number, Attribution | undefined>();
    for (const line of lines) {
      const parsed = parseTraceLine(line);
      if (parsed === undefined) continue;
      if (parsed.kind === 'lost') {
        this.lostLines += parsed.count;
        continue;
      }
      const failure = COUNTED_FAILURES.find(
        (one) => one.syscall === parsed.exit.syscall && -one.errno === parsed.exit.ret,
      );
      if (failure === undefined) continue;
      // One look-up per thread and poll: a client failing in a loop costs one stat.
      const tid = parsed.exit.tid;
      if (!attributed.has(tid)) attributed.set(tid, this.attributor.attribute(tid));
      this.count(failure.syscall, failure.name, attributed.get(tid));
      counted++;
    }
    this.pollSeconds = (performance.now() - started) / 1000;
    return counted;
  }

  private count(syscall: CountedSyscall, errno: string, at: Attribution | undefined): void {
    let netns = at === undefined ? EXITED_NETNS : String(at.inode);
    if (at !== undefined && !this.namespaces.has(netns)) {
      if (this.namespaces.size >= this.options.maxNamespaces) netns = OTHER_NETNS;
      else this.namespaces.add(netns);
    }
    const key = `${syscall}/${netns}`;
    const existing = this.series.get(key);
    if (existing !== undefined) {
      existing.count++;
      return;
    }
    const owner = netns === String(at?.inode) ? at?.owner : undefined;
    this.series.set(key, {
      syscall,
      errno,
      netns,
      pod: owner?.pod ?? '',
      namespace: owner?.namespace ?? '',
      container: owner?.container ?? '',
      count: 1,
    });
  }

  /** The counts so far, as plain data. */
  counts(): ConnectErrorCounts {
    return {
      series: [...this.series.values()].map((one) => ({ ...one })),
      lostEvents: Math.max(this.instance.lostEvents(), this.lostLines),
      pollSeconds: this.pollSeconds,
    };
  }

  /** Removes the instance. */
  close(): void {
    this.instance.close();
  }
}
