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
 * Fixed-width readers for the table's hot path: unrolled, one combined sign test for
 * all digits (any -1 makes the OR negative) and integer shifts instead of a loop on
 * doubles. The caller keeps every byte read inside the line.
 */

/** Two hex digits at `offset` (the state), or -1. */
export function readHex2(bytes: Uint8Array, offset: number): number {
  const d0 = HEX_VALUE[bytes[offset] as number] as number;
  const d1 = HEX_VALUE[bytes[offset + 1] as number] as number;
  if ((d0 | d1) < 0) return -1;
  return (d0 << 4) | d1;
}

/** Four hex digits at `offset` (a port), or -1. */
export function readHex4(bytes: Uint8Array, offset: number): number {
  const d0 = HEX_VALUE[bytes[offset] as number] as number;
  const d1 = HEX_VALUE[bytes[offset + 1] as number] as number;
  const d2 = HEX_VALUE[bytes[offset + 2] as number] as number;
  const d3 = HEX_VALUE[bytes[offset + 3] as number] as number;
  if ((d0 | d1 | d2 | d3) < 0) return -1;
  return (d0 << 12) | (d1 << 8) | (d2 << 4) | d3;
}

/** Eight hex digits at `offset` (an address word) as an unsigned 32-bit value, or -1. */
export function readHex8(bytes: Uint8Array, offset: number): number {
  const d0 = HEX_VALUE[bytes[offset] as number] as number;
  const d1 = HEX_VALUE[bytes[offset + 1] as number] as number;
  const d2 = HEX_VALUE[bytes[offset + 2] as number] as number;
  const d3 = HEX_VALUE[bytes[offset + 3] as number] as number;
  const d4 = HEX_VALUE[bytes[offset + 4] as number] as number;
  const d5 = HEX_VALUE[bytes[offset + 5] as number] as number;
  const d6 = HEX_VALUE[bytes[offset + 6] as number] as number;
  const d7 = HEX_VALUE[bytes[offset + 7] as number] as number;
  if ((d0 | d1 | d2 | d3 | d4 | d5 | d6 | d7) < 0) return -1;
  return (
    ((d0 << 28) |
      (d1 << 24) |
      (d2 << 20) |
      (d3 << 16) |
      (d4 << 12) |
      (d5 << 8) |
      (d6 << 4) |
      d7) >>>
    0
  );
}
