/**
 * The recent samples the live page draws: a fixed ring of float64 columns, allocated once,
 * so its memory is CAPACITY × COLUMNS × 8 bytes whatever the host (720 × 27 × 8 = 155,520
 * bytes: one hour at the default 5 s interval). A value the sample lacked (a failed
 * collector) is NaN and reaches the page as null, drawn as a gap, never as a stale number.
 */
import { FAMILIES, type Snapshot, TCP_STATES, type TcpState } from '../snapshot/model.js';

export const HISTORY_CAPACITY = 720;

const STATE_COLUMNS = FAMILIES.flatMap((family) => TCP_STATES.map((state) => `${family}.${state}`));
const COLUMNS = ['time', ...STATE_COLUMNS, 'tw', 'twRecycled', 'usedMax', 'usable'] as const;
export const HISTORY_BYTES = HISTORY_CAPACITY * COLUMNS.length * Float64Array.BYTES_PER_ELEMENT;

export interface HistorySeries {
  /** Sample start times, seconds since the epoch, oldest first. */
  readonly time: number[];
  readonly states: Record<(typeof FAMILIES)[number], Record<TcpState, (number | null)[]>>;
  /** TIME_WAIT sockets created (TcpExt TW) and reused (TWRecycled) per second since the previous sample. */
  readonly timeWaitCreatedPerSecond: (number | null)[];
  readonly timeWaitReusedPerSecond: (number | null)[];
  readonly ephemeralUsedMax: (number | null)[];
  readonly ephemeralUsable: (number | null)[];
}

function orNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

export class SampleHistory {
  private readonly columns: ReadonlyMap<string, Float64Array>;
  private next = 0;
  private count = 0;

  constructor(private readonly capacity = HISTORY_CAPACITY) {
    this.columns = new Map(COLUMNS.map((name) => [name, new Float64Array(capacity)]));
  }

  get length(): number {
    return this.count;
  }

  record(snapshot: Snapshot): void {
    const at = this.next;
    const put = (name: string, value: number | undefined) => {
      (this.columns.get(name) as Float64Array)[at] = value ?? Number.NaN;
    };
    put('time', snapshot.timestampMs / 1000);
    for (const family of FAMILIES) {
      for (const state of TCP_STATES) {
        put(`${family}.${state}`, snapshot.sockets?.states[family][state]);
      }
    }
    put('tw', snapshot.netstat?.tcpExt.TW);
    put('twRecycled', snapshot.netstat?.tcpExt.TWRecycled);
    put('usedMax', snapshot.sockets?.ephemeral?.usedMax);
    put('usable', snapshot.sockets?.ephemeral?.usable);
    this.next = (at + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** One column, oldest first. */
  private column(name: string): number[] {
    const values = this.columns.get(name) as Float64Array;
    const start = (this.next - this.count + this.capacity) % this.capacity;
    return Array.from(
      { length: this.count },
      (_, index) => values[(start + index) % this.capacity] as number,
    );
  }

  /** A counter's increase per second between neighbours; null at the start, gaps and resets. */
  private rate(name: string, time: readonly number[]): (number | null)[] {
    const counter = this.column(name);
    return counter.map((value, index) => {
      if (index === 0) return null;
      const before = counter[index - 1] as number;
      const seconds = (time[index] as number) - (time[index - 1] as number);
      const rate = (value - before) / seconds;
      return Number.isFinite(rate) && rate >= 0 ? rate : null;
    });
  }

  series(): HistorySeries {
    const time = this.column('time');
    const states = {} as HistorySeries['states'];
    for (const family of FAMILIES) {
      const byState = {} as Record<TcpState, (number | null)[]>;
      for (const state of TCP_STATES)
        byState[state] = this.column(`${family}.${state}`).map(orNull);
      states[family] = byState;
    }
    return {
      time,
      states,
      timeWaitCreatedPerSecond: this.rate('tw', time),
      timeWaitReusedPerSecond: this.rate('twRecycled', time),
      ephemeralUsedMax: this.column('usedMax').map(orNull),
      ephemeralUsable: this.column('usable').map(orNull),
    };
  }
}
