import { describe, expect, it } from 'vitest';
import { PeakWindow } from '../../src/sources/sockstat-peaks.js';

const stat = (inuse: number, tw: number, inuse6?: number) => ({
  ipv4: { inuse, tw },
  ...(inuse6 === undefined ? {} : { ipv6: { inuse: inuse6 } }),
});

describe('PeakWindow', () => {
  it('gives the highest reading of each field within the trailing window', () => {
    const window = new PeakWindow(1_000);
    window.observe(0, stat(5, 1, 2));
    window.observe(250, stat(90, 0, 1));
    window.observe(500, stat(7, 3));
    expect(window.peaks(600)).toEqual({
      windowSeconds: 1,
      ipv4: { inuse: 90, tw: 3 },
      ipv6: { inuse: 2 },
    });
    // 90 was read at 250: at 1250 it has left the window, 7 (read at 500) is the highest.
    expect(window.peaks(1_250).ipv4).toEqual({ inuse: 7, tw: 3 });
  });

  it('keeps the latest reading when the window holds no other', () => {
    const window = new PeakWindow(100);
    window.observe(0, stat(4, 4));
    expect(window.peaks(10_000).ipv4).toEqual({ inuse: 4, tw: 4 });
  });

  it('slides over a falling series: the oldest reading still in the window is the highest', () => {
    const window = new PeakWindow(1_000);
    for (let at = 0; at <= 10_000; at += 250) window.observe(at, stat(1_000 - at / 250, 0));
    // Readings after 9000 remain: the one at 9250 is the highest of them.
    expect(window.peaks(10_000).ipv4.inuse).toBe(1_000 - 9_250 / 250);
  });
});
