/**
 * Address decoding for /proc/net/tcp{,6}. The kernel prints each 32-bit word of the
 * address as a native integer (`%08X`), so on a little-endian host the bytes of every
 * word come out reversed: `0100007F` is 127.0.0.1.
 */
import { endianness } from 'node:os';

const littleEndian = endianness() === 'LE';

/** Network-order byte `index` (0..3) of a word as the kernel printed it. */
function wordByte(word: number, index: number): number {
  const shift = littleEndian ? index * 8 : (3 - index) * 8;
  return (word >>> shift) & 0xff;
}

/** The word /proc/net/tcp would print for the network-order bytes b0..b3 (signed). */
export function printedWord(b0: number, b1: number, b2: number, b3: number): number {
  return littleEndian
    ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
    : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
}

export function formatIpv4(word: number): string {
  return `${wordByte(word, 0)}.${wordByte(word, 1)}.${wordByte(word, 2)}.${wordByte(word, 3)}`;
}

/** Word 2 of `::ffff:a.b.c.d` as the kernel prints it: the bytes 00 00 ff ff (signed). */
const MAPPED_MARKER = (littleEndian ? 0xffff0000 : 0x0000ffff) | 0;

/** Words signed or unsigned alike: only their 32 bits count. */
export function isIpv4Mapped(w0: number, w1: number, w2: number): boolean {
  return w0 === 0 && w1 === 0 && (w2 | 0) === MAPPED_MARKER;
}

/** RFC 5952 text form: lower case, the longest run (≥ 2) of zero groups compressed. */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const groups: number[] = [];
  for (const word of [w0, w1, w2, w3]) {
    groups.push((wordByte(word, 0) << 8) | wordByte(word, 1));
    groups.push((wordByte(word, 2) << 8) | wordByte(word, 3));
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((group) => group.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** 127.0.0.0/8, from a word as the kernel printed it. */
export function isIpv4Loopback(word: number): boolean {
  return wordByte(word, 0) === 127;
}

/** `::1`, or IPv4-mapped 127/8 (`::ffff:127.x.y.z`), as the kernel's loopback test for tcp6. */
export function isIpv6Loopback(w0: number, w1: number, w2: number, w3: number): boolean {
  if (isIpv4Mapped(w0, w1, w2)) return isIpv4Loopback(w3);
  return w0 === 0 && w1 === 0 && w2 === 0 && (w3 | 0) === (littleEndian ? 0x01000000 : 1);
}
