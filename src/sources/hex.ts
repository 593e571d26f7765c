/** Hex digit value by byte, -1 for anything else. Upper and lower case, as the kernel prints upper. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let digit = 0; digit < 10; digit++) HEX_VALUE[48 + digit] = digit;
for (let digit = 0; digit < 6; digit++) {
  HEX_VALUE[65 + digit] = 10 + digit;
  HEX_VALUE[97 + digit] = 10 + digit;
}

/**
 * Value of `length` (at most 8) hex digits at `offset`, or -1 when any byte is not a hex
 * digit. Arithmetic on doubles keeps all 32 bits exact and unsigned.
 */
export function readHex(bytes: Uint8Array, offset: number, length: number): number {
  let value = 0;
  for (let i = offset; i < offset + length; i++) {
    const digit = HEX_VALUE[bytes[i] as number] as number;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/*
 * Fixed-width readers for the table's hot path. One unaligned little-endian load takes
 * two or four digits at once, and a table indexed by a pair of bytes (first digit in the
 * low byte) gives both digits' value, or -1 when either is not a hex digit: half the
 * loads and lookups of a digit at a time, and one sign test for the whole field. Loads
 * are 16 and signed 32 bits: an unsigned 32-bit load above 2^31 would leave int range.
 * The caller keeps every byte read inside the line.
 */
const HEX_PAIR_VALUE = new Int16Array(65536).fill(-1);
for (let first = 0; first < 256; first++) {
  for (let second = 0; second < 256; second++) {
    const high = HEX_VALUE[first] as number;
    const low = HEX_VALUE[second] as number;
    if (high >= 0 && low >= 0) HEX_PAIR_VALUE[first | (second << 8)] = (high << 4) | low;
  }
}

/** Two hex digits at `offset` (the state), or -1. */
export function readHex2(view: DataView, offset: number): number {
  return HEX_PAIR_VALUE[view.getUint16(offset, true)] as number;
}

/** Four hex digits at `offset` (a port), or -1. */
export function readHex4(view: DataView, offset: number): number {
  const digits = view.getInt32(offset, true);
  const high = HEX_PAIR_VALUE[digits & 0xffff] as number;
  const low = HEX_PAIR_VALUE[digits >>> 16] as number;
  return (high | low) < 0 ? -1 : (high << 8) | low;
}

/** Eight hex digits at `offset` (an address word) as an unsigned 32-bit value, or -1. */
export function readHex8(view: DataView, offset: number): number {
  const first = view.getInt32(offset, true);
  const second = view.getInt32(offset + 4, true);
  const b0 = HEX_PAIR_VALUE[first & 0xffff] as number;
  const b1 = HEX_PAIR_VALUE[first >>> 16] as number;
  const b2 = HEX_PAIR_VALUE[second & 0xffff] as number;
  const b3 = HEX_PAIR_VALUE[second >>> 16] as number;
  if ((b0 | b1 | b2 | b3) < 0) return -1;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/** A DataView over exactly the bytes of `bytes`, for the fixed-width readers. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
