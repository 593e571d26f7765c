/**
 * Bounded top-K selection: the best `k` items of a stream under a total order, in
 * O(n log k) time and O(k) memory. A binary heap keeps the worst item kept at its root, so
 * an item no better than that root costs one comparison.
 */

/** Negative when `a` ranks before (is better than) `b`; a total order, so results are stable. */
export type Ranking<T> = (a: T, b: T) => number;

export class TopK<T> {
  private readonly heap: T[] = [];

  constructor(
    private readonly k: number,
    private readonly rank: Ranking<T>,
  ) {}

  offer(item: T): void {
    const { heap } = this;
    if (heap.length < this.k) {
      heap.push(item);
      this.siftUp(heap.length - 1);
    } else if (heap.length > 0 && this.rank(item, heap[0] as T) < 0) {
      heap[0] = item;
      this.siftDown(0);
    }
  }

  /** The items kept, best first. */
  sorted(): T[] {
    return [...this.heap].sort(this.rank);
  }

  /** True when `a` ranks after `b`: it belongs nearer the root. */
  private worse(a: T, b: T): boolean {
    return this.rank(a, b) > 0;
  }

  private siftUp(index: number): void {
    const { heap } = this;
    const item = heap[index] as T;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.worse(item, heap[parent] as T)) break;
      heap[index] = heap[parent] as T;
      index = parent;
    }
    heap[index] = item;
  }

  private siftDown(index: number): void {
    const { heap } = this;
    const item = heap[index] as T;
    const length = heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.worse(heap[right] as T, heap[left] as T) ? right : left;
      if (!this.worse(heap[child] as T, item)) break;
      heap[index] = heap[child] as T;
      index = child;
    }
    heap[index] = item;
  }
}

/** The best `k` of `items`, best first. */
export function selectTop<T>(items: Iterable<T>, k: number, rank: Ranking<T>): T[] {
  const top = new TopK(k, rank);
  for (const item of items) top.offer(item);
  return top.sorted();
}
