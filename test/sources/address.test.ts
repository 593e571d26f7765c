import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, isIpv4Mapped } from '../../src/sources/address.js';
import { kernelAddress } from '../../testkit/kernel/kernel-format.js';

/** The four words of 32 hex digits, as the decoder gives them. */
const words = (hex32: string) =>
  [0, 8, 16, 24].map((offset) => Number.parseInt(hex32.slice(offset, offset + 8), 16) | 0) as [
    number,
    number,
    number,
    number,
  ];

describe('IPv4 addresses in kernel byte order', () => {
  it.each([
    ['0100007F', '127.0.0.1'],
    ['00000000', '0.0.0.0'],
    ['0A0012C6', '198.18.0.10'],
    ['FFFFFFFF', '255.255.255.255'],
  ])('%s is %s', (printed, dotted) => {
    expect(formatIpv4(Number.parseInt(printed, 16) | 0)).toBe(dotted);
  });
});

describe('IPv6 addresses in kernel byte order', () => {
  it.each([
    ['00000000000000000000000001000000', '::1'],
    ['00000000000000000000000000000000', '::'],
  ])('kernel text %s is %s', (printed, text) => {
    expect(formatIpv6(...words(printed))).toBe(text);
  });

  const bytes = (...groups: number[]) => groups.flatMap((group) => [group >> 8, group & 0xff]);
  it.each([
    [bytes(0xfd00, 0, 0, 0, 0, 0, 0, 1), 'fd00::1'],
    [bytes(0xfd00, 0, 0, 0, 0, 1, 0, 0), 'fd00::1:0:0'],
    [bytes(0xfd00, 0, 0, 1, 0, 0, 0, 0), 'fd00:0:0:1::'],
    [bytes(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), '2001:db8::1:0:0:1'],
    [bytes(0x2001, 0xdb8, 1, 1, 1, 1, 1, 0xffff), '2001:db8:1:1:1:1:1:ffff'],
    [bytes(0x2001, 0xdb8, 0, 1, 0, 0, 0, 0xff), '2001:db8:0:1::ff'],
    [bytes(0x2001, 0, 0, 1, 0, 0, 1, 0), '2001::1:0:0:1:0'],
  ])('bytes %j print back as %s', (network, text) => {
    expect(formatIpv6(...words(kernelAddress(network)))).toBe(text);
  });

  it('recognises IPv4-mapped addresses and nothing else', () => {
    const [m0, m1, m2] = words('0000000000000000FFFF00000A0012C6');
    expect(isIpv4Mapped(m0, m1, m2)).toBe(true);
    const [n0, n1, n2] = words('00000000000000000000FFFF0A0012C6');
    expect(isIpv4Mapped(n0, n1, n2)).toBe(false);
    const [l0, l1, l2] = words('00000000000000000000000001000000');
    expect(isIpv4Mapped(l0, l1, l2)).toBe(false);
  });
});
