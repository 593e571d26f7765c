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
