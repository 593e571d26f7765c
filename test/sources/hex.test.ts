/**
 * The fixed-width hex readers the table decoder uses (byte-pair lookups over a DataView,
 * a speed-up found by the bench) must answer exactly as the general readHex, valid
 * digits or not, at any offset, aligned or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readHex, readHex2, readHex4, readHex8, viewOf } from '../../src/sources/hex.js';

const HEX_BYTES = [...'0123456789ABCDEFabcdef'].map((char) => char.charCodeAt(0));
/** Mostly hex digits, sometimes any byte at all, so both answers get exercised. */
const byte = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...HEX_BYTES) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

describe('fixed-width hex readers', () => {
  for (const [width, read] of [
    [2, readHex2],
    [4, readHex4],
    [8, readHex8],
  ] as const) {
    it(`readHex${width} agrees with readHex(…, ${width}) at any offset`, () => {
      fc.assert(
        fc.property(
          fc.array(byte, { minLength: width, maxLength: width + 6 }),
          fc.nat(),
          (bytes, start) => {
            // A view that starts inside a larger buffer, as the reader's lines do.
            const backing = new Uint8Array(bytes.length + 3);
            backing.set(bytes, 3);
            const buffer = backing.subarray(3);
            const offset = start % (buffer.length - width + 1);
            expect(read(viewOf(buffer), offset)).toBe(readHex(buffer, offset, width));
          },
        ),
        { numRuns: 2000 },
      );
    });
  }

  it('reads all 32 bits unsigned', () => {
    const ascii = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
    const read8 = (text: string) => readHex8(viewOf(ascii(text)), 0);
    expect(read8('FFFFFFFF')).toBe(0xffffffff);
    expect(read8('80000000')).toBe(0x80000000);
    expect(read8('0100007g')).toBe(-1);
  });
});
