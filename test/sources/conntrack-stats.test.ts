import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConntrackStats, readConntrackStats } from '../../src/sources/conntrack-stats.js';
import { SourceError } from '../../src/sources/kernel-files.js';

const HEADER =
  'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart';

function row(values: Record<number, number>): string {
  return Array.from({ length: 17 }, (_, i) => (values[i] ?? 0).toString(16).padStart(8, '0')).join(
    ' ',
  );
}

describe('parseConntrackStats', () => {
  it('sums the per-CPU rows by column name and takes entries once', () => {
    const text = `${HEADER}\n${row({ 0: 10, 1: 1, 4: 0x1f, 9: 9, 10: 9, 11: 2, 16: 3 })}\n${row({ 0: 10, 1: 4, 9: 0xa, 10: 0xb })}\n`;
    expect(parseConntrackStats(text)).toEqual({
      entries: 10,
      events: {
        insert_failed: 19,
        drop: 20,
        early_drop: 2,
        clash_resolve: 5,
        search_restart: 3,
        invalid: 31,
      },
    });
  });

  it('leaves out the columns a kernel does not print', () => {
    const text = 'entries insert_failed drop\n0000000a 00000001 00000002\n';
    expect(parseConntrackStats(text)).toEqual({
      entries: 10,
      events: { insert_failed: 1, drop: 2 },
    });
  });

  it.each([
    ['empty', ''],
    ['no header', `${row({})}\n`],
    ['no row', `${HEADER}\n`],
    ['a short row', `${HEADER}\n00000001 00000002\n`],
    ['a bad hex value', `${HEADER}\n${row({}).replace('00000000', '0000zz00')}\n`],
  ])('refuses %s with the path', (_name, text) => {
    expect(() => parseConntrackStats(text, '/x/nf_conntrack')).toThrow(SourceError);
    expect(() => parseConntrackStats(text, '/x/nf_conntrack')).toThrow('/x/nf_conntrack');
  });
});

describe('readConntrackStats', () => {
  const root = mkdtempSync(join(tmpdir(), 'conntrack-stats-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  it('says conntrack is absent, with the path, when the file does not exist', () => {
    expect(() => readConntrackStats(root)).toThrow(
      /conntrack is absent: no .*net\/stat\/nf_conntrack/,
    );
  });

  it('reads nf_conntrack_max from sys/, or for a /proc/<pid> root from the procfs beside it', () => {
    write('net/stat/nf_conntrack', `${HEADER}\n${row({ 0: 3 })}\n`);
    write('sys/net/netfilter/nf_conntrack_max', '65536\n');
    expect(readConntrackStats(root)).toMatchObject({ entries: 3, limit: 65536 });
    write('42/net/stat/nf_conntrack', `${HEADER}\n${row({ 0: 5 })}\n`);
    expect(readConntrackStats(join(root, '42'))).toMatchObject({ entries: 5, limit: 65536 });
  });
});
