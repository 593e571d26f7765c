/** A fake source read once per namespace round: it reports the start time of the round it followed. */
import { defineCollector, labelled } from '../../src/collectors/collector.js';
import { NETNS_ROUNDS } from '../../src/collectors/netns.js';
import { defineStarter } from '../../src/commands/source-runner.js';
import { resultOf, scheduledSource } from '../../src/sources/scheduled-source.js';

export const FAKE_ROUND = scheduledSource<number>('fake-round', { kind: 'round' }, true);

export const fakeRoundCollector = defineCollector({
  name: 'fake-round',
  help: 'Reads after each round.',
  enabledByDefault: false,
  sources: [FAKE_ROUND],
  flags: {},
  select: (snapshot) => resultOf(snapshot.scheduled, FAKE_ROUND),
  metrics: [
    {
      name: 'fake_round_timestamp_seconds',
      help: 'Start of the round it followed.',
      type: 'gauge',
      values: (atMs: number) => [labelled(atMs / 1000)],
    },
  ],
});

export const fakeRoundStarter = defineStarter({
  source: FAKE_ROUND,
  start({ store, publish }) {
    return {
      read: () => publish(store.latest(NETNS_ROUNDS)?.round.timestampMs ?? -1),
      stop: () => undefined,
    };
  },
});
