/**
 * The highest sockstat values over a trailing window (docs/connect-errors.md, "Between
 * samples"): net/sockstat is O(1) to read, so it is read far more often than the socket
 * tables, and a burst of sockets opened and closed between two samples still shows. Each
 * value keeps a monotonic queue of (time, value): the front is the window's maximum, and a
 * reading costs amortised O(1).
 */
import type { Sockstat } from './sockstat.js';

/** Plain data: the maximum of each `family`/`kind` of tcpstate_sockstat_sockets. */
export interface SockstatPeaks {
  readonly windowSeconds: number;
  readonly ipv4: Readonly<Record<string, number>>;
  readonly ipv6?: Readonly<Record<string, number>>;
}

/** What the fast readings publish: the node's maxima, and each known namespace's by its inode. */
export interface SockstatFastReadings {
  readonly node: SockstatPeaks;
  readonly namespaces: Readonly<Record<string, SockstatPeaks>>;
}

interface Reading {
  readonly atMs: number;
  readonly value: number;
}

export class PeakWindow {
  private readonly queues = new Map<string, Reading[]>();

  constructor(private readonly windowMs: number) {}

  /** Adds one reading of every field of `stat`, taken at `atMs` (monotonic milliseconds). */
  observe(atMs: number, stat: Sockstat): void {
    this.add('ipv4', stat.ipv4, atMs);
    if (stat.ipv6 !== undefined) this.add('ipv6', stat.ipv6, atMs);
  }

  private add(family: string, fields: Readonly<Record<string, number>>, atMs: number): void {
    for (const [kind, value] of Object.entries(fields)) {
      const key = `${family}/${kind}`;
      let queue = this.queues.get(key);
      if (queue === undefined) {
        queue = [];
        this.queues.set(key, queue);
      }
      // A smaller value before a larger one can never be the maximum again.
      while (queue.length > 0 && (queue.at(-1) as Reading).value <= value) queue.pop();
      queue.push({ atMs, value });
    }
  }

  /** The maxima over the window ending at `nowMs`. */
  peaks(nowMs: number): SockstatPeaks {
    const result: Record<string, Record<string, number>> = {};
    for (const [key, queue] of this.queues) {
      while (queue.length > 1 && (queue[0] as Reading).atMs <= nowMs - this.windowMs) queue.shift();
      const [family, kind] = key.split('/') as [string, string];
      result[family] ??= {};
      (result[family] as Record<string, number>)[kind] = (queue[0] as Reading).value;
    }
    return {
      windowSeconds: this.windowMs / 1000,
      ipv4: result.ipv4 ?? {},
      ...(result.ipv6 !== undefined && { ipv6: result.ipv6 }),
    };
  }
}
