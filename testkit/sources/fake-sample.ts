/** A fake source on the `sample` schedule: it counts the node samples it was told of. */
import { defineCollector, labelled } from '../../src/collectors/collector.js';
import { defineStarter } from '../../src/commands/source-runner.js';
import { resultOf, scheduledSource } from '../../src/sources/scheduled-source.js';

export const FAKE_SAMPLE = scheduledSource<number>('fake-sample', { kind: 'sample' }, true);

export const fakeSampleCollector = defineCollector({
  name: 'fake-sample',
  help: 'Reads with each sample.',
  enabledByDefault: false,
  sources: [FAKE_SAMPLE],
  flags: {},
  select: (snapshot) => resultOf(snapshot.scheduled, FAKE_SAMPLE),
  metrics: [
    {
      name: 'fake_sample_reads',
      help: 'Reads so far.',
      type: 'gauge',
      values: (reads: number) => [labelled(reads)],
    },
  ],
});

export const fakeSampleStarter = defineStarter({
  source: FAKE_SAMPLE,
  start({ publish }) {
    let reads = 0;
    return { read: () => publish(++reads), stop: () => undefined };
  },
});
