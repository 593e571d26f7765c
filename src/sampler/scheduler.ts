/**
 * Asks for a sample at once, then every interval. Samples never overlap: one that is due
 * while the previous still runs is skipped and counted.
 */
import type { Snapshot } from '../snapshot/model.js';

export interface SnapshotProducer<Result = Snapshot> {
  sample(): Promise<Result>;
  /** Resolves false when a thread it started could not be ended (blocked in the kernel). */
  close(): Promise<boolean>;
}

export interface SchedulerListener<Result = Snapshot> {
  onSnapshot(snapshot: Result): void;
  onSkipped(): void;
}

export class SampleScheduler<Result = Snapshot> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly producer: SnapshotProducer<Result>,
    private readonly intervalMs: number,
    private readonly listener: SchedulerListener<Result>,
  ) {}

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.tick();
  }

  /**
   * Stops asking, abandons a sample in flight and closes the producer; false when the
   * producer left a thread blocked in the kernel.
   */
  async stop(): Promise<boolean> {
    this.stopped = true;
    clearInterval(this.timer);
    const closed = await this.producer.close();
    await this.running;
    return closed;
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.listener.onSkipped();
      return;
    }
    this.running = this.producer.sample().then((result) => {
      this.running = undefined;
      if (!this.stopped) this.listener.onSnapshot(result);
    });
  }
}
