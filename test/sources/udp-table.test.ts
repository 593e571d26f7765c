import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/sources/kernel-files.js';
import { decodeUdpTable, readUdpListeners } from '../../src/sources/udp-table.js';

// Captured on Linux 6.18 in a namespace: a server bound to 0.0.0.0:30053, a socket connected
// from 127.0.0.1:36533 to it, and one that sent to it without binding (autobound to 49420).
const UDP = `${[
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  ' 2516: 00000000:C10C 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2248574 2 00000000f4763ba4 0',
  ' 6013: 0100007F:8EB5 0100007F:7565 01 00000000:00000000 00:00000000 00000000     0        0 2248572 2 00000000e96a9487 0',
  '15917: 00000000:7565 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 2248571 2 00000000814fa3f9 0',
]
  .map((line) => line.padEnd(127, ' '))
  .join('\n')}\n`;
// A server bound to [::]:5353.
const UDP6 = `${[
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  ' 7601: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2248573 2 00000000fedd2cca 0',
].join('\n')}\n`;

function decode(text: string): number[] {
  const ports = new Set<number>();
  decodeUdpTable(text, '/p/net/udp', ports);
  return [...ports];
}

describe('decodeUdpTable', () => {
  it('keeps the local ports of unconnected sockets and leaves connected ones out', () => {
    expect(decode(UDP).sort((a, b) => a - b)).toEqual([0x7565, 0xc10c]);
    expect(decode(UDP6)).toEqual([5353]);
  });

  it('reads a table with no socket', () => {
    expect(decode(`${UDP.split('\n')[0]}\n`)).toEqual([]);
  });

  it('skips one malformed line among more than a hundred, and fails past 1 %', () => {
    const line = UDP.split('\n')[1] as string;
    const header = UDP.split('\n')[0] as string;
    const many = Array.from({ length: 150 }, () => line);
    expect(decode(`${[header, ...many, ' 1: zz'].join('\n')}\n`)).toEqual([0xc10c]);
    const broken = [header, ...many, ' 1: zz', ' 2: 0000:1', '3: 00000000:0035 00000000:0000 7'];
    expect(() => decode(`${broken.join('\n')}\n`)).toThrow('3 of its 153 lines are malformed');
  });

  it.each([
    ['empty', ''],
    ['no newline', UDP.split('\n')[0] as string],
    ['no header', `${UDP.split('\n')[1]}\n`],
    ['a line cut short', UDP.slice(0, UDP.length - 60)],
    ['a bad port', UDP.replace('C10C', 'C1G0')],
    ['a bad state', UDP.replaceAll(' 07 ', ' 7 ')],
  ])('refuses %s with the path', (_name, text) => {
    expect(() => decode(text)).toThrow(SourceError);
    expect(() => decode(text)).toThrow('/p/net/udp');
  });
});

describe('readUdpListeners', () => {
  const root = mkdtempSync(join(tmpdir(), 'udp-table-'));
  mkdirSync(join(root, 'net'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('merges udp and udp6, ascending and distinct', () => {
    writeFileSync(join(root, 'net/udp'), UDP);
    writeFileSync(join(root, 'net/udp6'), UDP6.replace(':14E9 ', ':7565 '));
    expect(readUdpListeners(root)).toEqual({ ports: [0x7565, 0xc10c] });
  });

  it('reads udp alone on a host without IPv6, and fails without udp', () => {
    rmSync(join(root, 'net/udp6'));
    expect(readUdpListeners(root).ports).toEqual([0x7565, 0xc10c]);
    rmSync(join(root, 'net/udp'));
    expect(() => readUdpListeners(root)).toThrow(`cannot read ${join(root, 'net/udp')}`);
  });
});
