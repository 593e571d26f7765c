import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectTop, TopK } from '../../src/snapshot/top-k.js';

const byValueThenIndex = (values: readonly number[]) => (a: number, b: number) =>
  (values[b] as number) - (values[a] as number) || a - b;

describe('TopK', () => {
  it('keeps the same items, in the same order, as a full sort cut at k (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }),
        fc.integer({ min: 0, max: 40 }),
        (values, k) => {
          const ids = values.map((_, index) => index);
          const rank = byValueThenIndex(values);
          const expected = [...ids].sort(rank).slice(0, k);
          expect(selectTop(ids, k, rank)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps nothing when k is 0 and everything, sorted, when k exceeds the items', () => {
    const rank = (a: number, b: number) => a - b;
    expect(selectTop([3, 1, 2], 0, rank)).toEqual([]);
    expect(selectTop([3, 1, 2], 10, rank)).toEqual([1, 2, 3]);
  });

  it('compares O(n log k) times, not O(n k)', () => {
    let comparisons = 0;
    const rank = (a: number, b: number) => {
      comparisons++;
      return a - b;
    };
    const top = new TopK(1000, rank);
    // Descending input: every item beats the worst kept, the worst case for a heap.
    for (let i = 100_000; i > 0; i--) top.offer(i);
    expect(top.sorted()).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    // Each offer sifts through ~log2(1000) = 10 levels, 2 comparisons each; a sorted-list
    // insertion would make up to 1000 per offer.
    expect(comparisons).toBeLessThan(100_000 * 2 * 11 + 1000 * 20);
  });
});
