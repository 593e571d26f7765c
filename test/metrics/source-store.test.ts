/** The one store of scheduled results: each source's latest result with its time, judged fresh or stale when served. */
import { describe, expect, it } from 'vitest';
import { SourceStore } from '../../src/metrics/source-store.js';
import { scheduledSource } from '../../src/sources/scheduled-source.js';

const SOURCE = scheduledSource<number>('fake', { kind: 'interval', flag: 'fakeIntervalMs' });
const MAX_AGE_MS = 10_000;

function store(): { store: SourceStore; heard: string[] } {
  const kept = new SourceStore();
  kept.declare(SOURCE, MAX_AGE_MS);
  const heard: string[] = [];
  kept.onPublish((name) => heard.push(name));
  return { store: kept, heard };
}

describe('the source store', () => {
  it('serves the latest result with its time until it is older than its schedule allows', () => {
    const { store: kept, heard } = store();
    kept.publish(SOURCE, 1, 1_000);
    kept.publish(SOURCE, 2, 2_000);
    expect(heard).toEqual(['fake', 'fake']);
    expect(kept.served(2_000 + MAX_AGE_MS)).toEqual({ fake: { atMs: 2_000, result: 2 } });
    const stale = kept.served(2_001 + MAX_AGE_MS).fake;
    expect(stale?.result).toBeUndefined();
    expect(stale?.error).toBe(
      'stale: its latest result is 10.0 s old, more than the 10 s its schedule allows',
    );
    // The latest result stays reachable for a source that builds on it.
    expect(kept.latest(SOURCE)).toBe(2);
  });

  it('renews an unchanged result quietly: fresh again, nothing sent or heard', () => {
    const { store: kept, heard } = store();
    kept.publish(SOURCE, 5, 1_000);
    expect(kept.changes(1_000)?.fake?.result).toBe(5);
    kept.renew(SOURCE, 50_000);
    expect(heard).toEqual(['fake']);
    expect(kept.changes(50_000)).toBeUndefined();
    expect(kept.served(50_000 + MAX_AGE_MS)).toEqual({ fake: { atMs: 50_000, result: 5 } });
  });

  it('sends a change once, again when it goes stale, and everything to a new renderer', () => {
    const { store: kept } = store();
    expect(kept.changes(0)).toBeUndefined();
    kept.publish(SOURCE, 1, 1_000);
    expect(kept.changes(1_000)?.fake?.result).toBe(1);
    expect(kept.changes(1_500)).toBeUndefined();
    expect(kept.changes(1_001 + MAX_AGE_MS)?.fake?.error).toMatch(/^stale: /);
    expect(kept.changes(1_002 + MAX_AGE_MS)).toBeUndefined();
    kept.resend();
    expect(kept.changes(1_002 + MAX_AGE_MS)?.fake?.error).toMatch(/^stale: /);
  });

  it('serves a failure as a failure whatever its age', () => {
    const { store: kept } = store();
    kept.publish(SOURCE, 1, 1_000);
    kept.fail(SOURCE, 'no tracefs', 2_000);
    expect(kept.served(1_000_000)).toEqual({ fake: { atMs: 2_000, error: 'no tracefs' } });
    expect(kept.latest(SOURCE)).toBeUndefined();
  });
});
