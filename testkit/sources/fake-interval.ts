/** A fake source on its own interval, from the flag `fakeIntervalMs`: it counts its readings. */
import { defineCollector, labelled } from '../../src/collectors/collector.js';
import { defineStarter } from '../../src/commands/source-runner.js';
import { resultOf, scheduledSource } from '../../src/sources/scheduled-source.js';

export const FAKE_INTERVAL = scheduledSource<number>('fake-interval', {
  kind: 'interval',
  flag: 'fakeIntervalMs',
});

export const fakeIntervalCollector = defineCollector({
  name: 'fake-interval',
  help: 'Reads on its interval.',
  enabledByDefault: false,
  sources: [FAKE_INTERVAL],
  flags: {},
  select: (snapshot) => resultOf(snapshot.scheduled, FAKE_INTERVAL),
  metrics: [
    {
      name: 'fake_interval_reads',
      help: 'Reads so far.',
      type: 'gauge',
      values: (reads: number) => [labelled(reads)],
    },
  ],
});

export const fakeIntervalStarter = defineStarter({
  source: FAKE_INTERVAL,
  start({ intervalMs, publish }) {
    let reads = 0;
    const timer = setInterval(() => publish(++reads), intervalMs);
    return {
      stop: () => {
        clearInterval(timer);
        return undefined;
      },
    };
  },
});
