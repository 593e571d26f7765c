/**
 * The destination table is the engine's only hash table: ids must be stable and distinct
 * for distinct keys through every rehash, IPv4 and IPv6 keys never equal, and a key
 * found again must give the id it was first given.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DestinationTable } from '../../src/snapshot/destination-table.js';

const word = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 0xffff });
const destination = fc.oneof(
  fc.record({ ipv6: fc.constant(false), words: fc.tuple(word, word), port }),
  fc.record({
    ipv6: fc.constant(true),
    words: fc.array(word, { minLength: 8, maxLength: 8 }),
    port,
  }),
);
type Destination = typeof destination extends fc.Arbitrary<infer T> ? T : never;

function intern(table: DestinationTable, key: Destination): number {
  const [local = 0, remote = 0] = key.words;
  return key.ipv6
    ? table.internIpv6(Int32Array.from(key.words), 0, key.port)
    : table.internIpv4(local, remote, key.port);
}

type Intern = (n: number, table: DestinationTable) => number;

const textOf = (key: Destination) => `${key.ipv6 ? 6 : 4} ${key.words.join('.')} ${key.port}`;

describe('DestinationTable', () => {
  it('gives each distinct key one id, the same every time, across rehashes', () => {
    fc.assert(
      fc.property(fc.array(destination, { minLength: 1, maxLength: 3000 }), (keys) => {
        const table = new DestinationTable();
        const ids = new Map<string, number>();
        for (const key of [...keys, ...keys]) {
          const id = intern(table, key);
          const known = ids.get(textOf(key));
          if (known === undefined) ids.set(textOf(key), id);
          else expect(id).toBe(known);
        }
        expect(table.size).toBe(ids.size);
        expect(new Set(ids.values()).size).toBe(ids.size);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps an IPv4 key apart from the IPv6 key with the same words and zeros', () => {
    const table = new DestinationTable();
    const ipv4 = table.internIpv4(0x0100007f, 0x0200007f, 9000);
    const ipv6 = table.internIpv6(Int32Array.of(0x0100007f, 0, 0, 0, 0x0200007f, 0, 0, 0), 0, 9000);
    expect(ipv6).not.toBe(ipv4);
    expect(DestinationTable.isIpv6(table.key(ipv4))).toBe(false);
    expect(DestinationTable.isIpv6(table.key(ipv6))).toBe(true);
    expect(DestinationTable.remotePort(table.key(ipv6))).toBe(9000);
    expect(table.internIpv4(0x0100007f, 0x0200007f, 9000)).toBe(ipv4);
  });

  // Many keys alike but for one word, so that probe chains hold keys that differ there.
  const ONE_WORD_APART: readonly (readonly [string, Intern])[] = [
    ['IPv4 local address', (n, table) => table.internIpv4(n, 2, 80)],
    ['IPv4 remote address', (n, table) => table.internIpv4(1, n, 80)],
    ['IPv4 remote port', (n, table) => table.internIpv4(1, 2, n)],
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((position): readonly [string, Intern] => [
      `IPv6 word ${position}`,
      (n, table) =>
        table.internIpv6(
          Int32Array.from({ length: 8 }, (_, i) => (i === position ? n : i)),
          0,
          80,
        ),
    ]),
  ];
  it.each(ONE_WORD_APART)('tells apart keys that differ only in the %s', (_, intern) => {
    const table = new DestinationTable();
    const ids = Array.from({ length: 3000 }, (_, n) => intern(n, table));
    expect(new Set(ids).size).toBe(3000);
    expect(Array.from({ length: 3000 }, (_, n) => intern(n, table))).toEqual(ids);
  });

  it('starts empty again after clear', () => {
    const table = new DestinationTable();
    table.internIpv4(1, 2, 3);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.internIpv4(4, 5, 6)).toBe(0);
  });
});
