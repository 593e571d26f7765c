import { describe, expect, it } from 'vitest';
import { formatPortList, mergePorts } from '../../src/doctor/advice.js';

describe('reserved port lists', () => {
  it('merges new ports into the kernel list syntax', () => {
    const merged = mergePorts([[40000, 40010]], [40011, 9000, 40005]);
    expect(merged).toEqual([
      [9000, 9000],
      [40000, 40011],
    ]);
    expect(formatPortList(merged)).toBe('9000,40000-40011');
  });
});
