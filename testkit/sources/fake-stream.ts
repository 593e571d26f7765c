/** A fake stream: it counts events arriving every 10 ms and publishes at its 50 ms heartbeat. */
import { defineCollector, labelled } from '../../src/collectors/collector.js';
import { defineStarter } from '../../src/commands/source-runner.js';
import { resultOf, scheduledSource } from '../../src/sources/scheduled-source.js';

export const FAKE_STREAM = scheduledSource<number>('fake-stream', {
  kind: 'stream',
  heartbeatMs: 50,
});

export const fakeStreamCollector = defineCollector({
  name: 'fake-stream',
  help: 'Counts a stream.',
  enabledByDefault: false,
  sources: [FAKE_STREAM],
  flags: {},
  select: (snapshot) => resultOf(snapshot.scheduled, FAKE_STREAM),
  metrics: [
    {
      name: 'fake_stream_events_total',
      help: 'Events so far.',
      type: 'counter',
      values: (events: number) => [labelled(events)],
    },
  ],
});

export const fakeStreamStarter = defineStarter({
  source: FAKE_STREAM,
  start({ publish }) {
    let events = 0;
    const arrivals = setInterval(() => events++, 10);
    const heartbeat = setInterval(() => publish(events), 50);
    return {
      stop: () => {
        clearInterval(arrivals);
        clearInterval(heartbeat);
        return undefined;
      },
    };
  },
});
