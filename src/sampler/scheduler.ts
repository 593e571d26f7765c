/**
 * Asks for a sample at once, then every interval. Samples never overlap: one that is due
 * while the previous still runs is skipped and counted.
 */
import type { Snapshot } from '../snapshot/model.js';

export interface SnapshotProducer {
  sample(): Promise<Snapshot>;
  close(): Promise<void>;
}

export interface SchedulerListener {
  onSnapshot(snapshot: Snapshot): void;
  onSkipped(): void;
}

export class SampleScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly producer: SnapshotProducer,
    private readonly intervalMs: number,
    private readonly listener: SchedulerListener,
  ) {}

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.tick();
  }

  /** Stops asking, abandons a sample in flight and closes the producer. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.producer.close();
    await this.running;
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.listener.onSkipped();
      return;
    }
    this.running = this.producer.sample().then((snapshot) => {
      this.running = undefined;
      if (!this.stopped) this.listener.onSnapshot(snapshot);
    });
  }
}
