import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TCP_STATES } from '../../src/snapshot/model.js';
import { SocketAccumulator } from '../../src/snapshot/socket-accumulator.js';
import { SourceError } from '../../src/sources/kernel-files.js';
import { type SocketSink, TcpTableReader, tableProblem } from '../../src/sources/tcp-table.js';
import { decodeText } from '../../testkit/kernel/decode-text.js';
import { ephemeralSettings } from '../../testkit/kernel/ephemeral-settings.js';
import {
  formatSocketLine,
  formatTable,
  ipv4Mapped,
  type KernelSocket,
} from '../../testkit/kernel/kernel-format.js';

/** A word as the kernel printed it (the sink gets it signed). */
const hexWord = (word: number) => (word >>> 0).toString(16);

/**
 * The state fields as text: `tx/rx` of LISTEN, `tr/when` of TIME_WAIT, `ino N` of
 * CLOSE_WAIT, nothing otherwise.
 */
function stateFields(state: number, first: number, second: number): string {
  const name = TCP_STATES[state];
  if (name === 'listen' || name === 'time_wait') return ` ${first}/${second}`;
  if (name === 'close_wait') {
    expect(first).toBe(0);
    return ` ino ${second >>> 0}`;
  }
  expect([first, second]).toEqual([0, 0]);
  return '';
}

/** Records every decoded socket as text, for asserting what the decoder saw. */
class RecordingSink implements SocketSink {
  readonly seen: string[] = [];
  addIpv4(
    state: number,
    localPort: number,
    remotePort: number,
    local: number,
    remote: number,
    first: number,
    second: number,
  ) {
    this.seen.push(
      `4 ${TCP_STATES[state]} ${hexWord(local)}:${localPort} ${hexWord(remote)}:${remotePort}${stateFields(state, first, second)}`,
    );
  }
  addIpv6(
    state: number,
    localPort: number,
    remotePort: number,
    words: Int32Array,
    at: number,
    first: number,
    second: number,
  ) {
    const hex = [...words.subarray(at, at + 8)].map(hexWord);
    this.seen.push(
      `6 ${TCP_STATES[state]} ${hex.slice(0, 4).join('.')}:${localPort} ${hex.slice(4).join('.')}:${remotePort}${stateFields(state, first, second)}`,
    );
  }
}

const lineReader = new TcpTableReader();

/** Decodes one line (no newline) as the only line of a table. */
function decode(line: string | Buffer, family: 'ipv4' | 'ipv6'): { ok: boolean; seen: string[] } {
  const sink = new RecordingSink();
  const text = Buffer.concat([Buffer.from('header\n'), Buffer.from(line), Buffer.from('\n')]);
  const stats = decodeText(lineReader, text, family, sink);
  expect(stats.lines).toBe(1);
  expect(stats.sockets + stats.malformed).toBe(1);
  return { ok: stats.sockets === 1, seen: sink.seen };
}

const REAL_TCP_LINE =
  '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1072 1 000000008244390e 100 0 0 10 0                      ';
/** A TIME_WAIT line as 6.18 prints it: fewer trailing fields, 59.64 s left. */
const REAL_TIME_WAIT_LINE =
  '   1: 010112C6:9C40 020112C6:2328 06 00000000:00000000 03:0000174C 00000000     0        0 0 3 000000003b334cfc                                      ';
/** A tcp6 listener with 5 connections waiting for accept(). */
const REAL_TCP6_LISTEN_LINE =
  '   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000005 00:00000000 00000000     0        0 1009646 3 000000007c8d0d39 100 0 0 10 0';
const REAL_TCP6_LINE =
  '   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000  1000        0 81231 1 0000000000000000 20 4 30 10 -1';

/** Where the state field starts: after `sl:`, the local and the remote address:port. */
function stateAt(line: string): number {
  const remoteColon = [...line.matchAll(/:/g)][2]?.index ?? Number.NaN;
  return remoteColon + 6;
}

describe('decodeLine', () => {
  it('decodes a real tcp line relative to the sl colon', () => {
    expect(decode(REAL_TCP_LINE, 'ipv4')).toEqual({ ok: true, seen: ['4 listen 0:2024 0:0 0/0'] });
  });

  it('hands over tr and when of a TIME_WAIT line, and the accept queue of a LISTEN line', () => {
    expect(decode(REAL_TIME_WAIT_LINE, 'ipv4')).toEqual({
      ok: true,
      seen: ['4 time_wait 10112c6:40000 20112c6:9000 3/5964'],
    });
    expect(decode(REAL_TCP6_LISTEN_LINE, 'ipv6')).toEqual({
      ok: true,
      seen: ['6 listen 0.0.0.0:443 0.0.0.0:0 5/0'],
    });
    const queue = REAL_TCP_LINE.replace(
      '00000000:00000000 00:00000000',
      '00000000:FfFfFfFe 00:0000a0B1',
    );
    expect(decode(queue, 'ipv4').seen).toEqual([`4 listen 0:2024 0:0 ${-2}/${0xa0b1}`]);
  });

  it('decodes a real tcp6 line', () => {
    expect(decode(REAL_TCP6_LINE, 'ipv6')).toEqual({
      ok: true,
      seen: ['6 established 0.0.0.1000000:8080 0.0.0.1000000:50000'],
    });
  });

  it('hands over the inode of a CLOSE_WAIT line, and only of CLOSE_WAIT', () => {
    const closeWait = REAL_TCP6_LINE.replace(' 01 ', ' 08 ');
    expect(decode(closeWait, 'ipv6').seen).toEqual([
      '6 close_wait 0.0.0.1000000:8080 0.0.0.1000000:50000 ino 81231',
    ]);
    const tcp = REAL_TCP_LINE.replace(' 0A ', ' 08 ');
    expect(decode(tcp, 'ipv4').seen).toEqual(['4 close_wait 0:2024 0:0 ino 1072']);
    // uid wider than its %5u, a negative timeout, the largest inode the kernel hands out.
    const wide = tcp.replace('     0        0 1072 ', ' 4294967294       -1 4294967295 ');
    expect(decode(wide, 'ipv4').seen).toEqual(['4 close_wait 0:2024 0:0 ino 4294967295']);
    // ESTABLISHED with the same fields: not read, 0 and 0.
    expect(decode(REAL_TCP6_LINE, 'ipv6').seen[0]).not.toContain('ino');
  });

  it.each([
    ['cut before the inode', (line: string) => line.slice(0, line.indexOf(' 1072 '))],
    [
      'cut inside the uid',
      (line: string) => line.slice(0, line.indexOf('     0        0 1072') + 3),
    ],
    ['not a number', (line: string) => line.replace(' 1072 ', ' 10x2 ')],
    ['0: no program holds it yet', (line: string) => line.replace(' 1072 ', ' 0 ')],
  ])('gives inode 0 for a CLOSE_WAIT line %s, still a socket', (_name, change) => {
    const line = change(REAL_TCP_LINE.replace(' 0A ', ' 08 '));
    expect(decode(line, 'ipv4')).toEqual({ ok: true, seen: ['4 close_wait 0:2024 0:0 ino 0'] });
  });

  it('hands over the inode of generated CLOSE_WAIT lines of both families (property)', () => {
    const address = (bytes: number) =>
      fc.array(fc.nat(255), { minLength: bytes, maxLength: bytes });
    for (const [family, bytes] of [
      ['ipv4', 4],
      ['ipv6', 16],
    ] as const) {
      fc.assert(
        fc.property(
          address(bytes),
          address(bytes),
          fc.nat(65535),
          fc.nat(65535),
          fc.nat(2 ** 32 - 1),
          fc.nat(99_999_999),
          (local, remote, localPort, remotePort, inode, slot) => {
            const line = formatSocketLine(slot, {
              local,
              localPort,
              remote,
              remotePort,
              state: 8,
              inode,
            });
            const { ok, seen } = decode(line, family);
            expect(ok).toBe(true);
            expect(seen[0]?.endsWith(` ino ${inode}`)).toBe(true);
          },
        ),
        { numRuns: 200 },
      );
    }
  });

  it.each([9999, 10000, 123456, 99999999])('handles sl %i, which widens the prefix', (slot) => {
    const line = formatSocketLine(slot, {
      local: [198, 18, 0, 1],
      localPort: 40000,
      remote: [198, 18, 0, 2],
      remotePort: 9000,
      state: 6,
    });
    expect(decode(line, 'ipv4')).toEqual({
      ok: true,
      seen: ['4 time_wait 10012c6:40000 20012c6:9000 3/6066'],
    });
  });

  it('decodes all eleven state codes and rejects 00 and 0C', () => {
    for (let code = 0; code <= 0x0c; code++) {
      const line = REAL_TCP_LINE.replace(
        ' 0A ',
        ` ${code.toString(16).toUpperCase().padStart(2, '0')} `,
      );
      const { ok, seen } = decode(line, 'ipv4');
      expect(ok).toBe(code >= 1 && code <= 11);
      if (ok) expect(seen[0]).toContain(` ${TCP_STATES[code - 1]} `);
    }
  });

  it.each([
    ['bad hex in the address', REAL_TCP_LINE.replace('00000000:07E8', '0000000G:07E8')],
    ['bad hex in the port', REAL_TCP_LINE.replace(':07E8', ':07X8')],
    ['bad hex in the state', REAL_TCP_LINE.replace(' 0A ', ' 0Z ')],
    ['a missing colon', REAL_TCP_LINE.replace('00000000:07E8', '00000000 07E8')],
    ['no sl prefix', REAL_TCP_LINE.replace('   0:', '    ')],
    ['a letter in sl', REAL_TCP_LINE.replace('   0:', '  x0:')],
    ['a cut after the state', REAL_TCP_LINE.slice(0, REAL_TCP_LINE.indexOf(' 0A ') + 3)],
    ['a cut inside the remote address', REAL_TCP_LINE.slice(0, 25)],
    [
      'a LISTEN line cut inside rx_queue',
      REAL_TCP_LINE.slice(0, REAL_TCP_LINE.indexOf(' 0A ') + 18),
    ],
    ['a LISTEN line cut after when', REAL_TCP_LINE.slice(0, REAL_TCP_LINE.indexOf(' 0A ') + 33)],
    [
      'a LISTEN line without the colon of tx:rx',
      REAL_TCP_LINE.replace(' 0A 00000000:', ' 0A 00000000 '),
    ],
    [
      'a LISTEN line without the colon of tr:when',
      REAL_TCP_LINE.replace(' 00:00000000', ' 00 00000000'),
    ],
    [
      'a TIME_WAIT line cut inside when',
      REAL_TIME_WAIT_LINE.slice(0, REAL_TIME_WAIT_LINE.indexOf(' 06 ') + 30),
    ],
    [
      'a TIME_WAIT line cut after when',
      REAL_TIME_WAIT_LINE.slice(0, REAL_TIME_WAIT_LINE.indexOf(' 06 ') + 33),
    ],
    [
      'a TIME_WAIT line with a tab after when',
      REAL_TIME_WAIT_LINE.replace('0000174C ', '0000174C\t'),
    ],
    ['an empty line', ''],
    ['a tcp6 line in the tcp table', REAL_TCP6_LINE],
  ])('rejects %s', (_why, line) => {
    expect(decode(line, 'ipv4')).toEqual({ ok: false, seen: [] });
  });

  // Bytes next to the hex digits in ASCII, and 0x10, which setting bit 5 turns into '0'.
  const NOT_HEX = [0x10, 0x2f, 0x3a, 0x40, 0x47, 0x60, 0x67, 0x20, 0xc6, 0x00];
  it.each([
    ['tcp LISTEN', REAL_TCP_LINE, 'ipv4'],
    ['tcp TIME_WAIT', REAL_TIME_WAIT_LINE, 'ipv4'],
    ['tcp6 LISTEN', REAL_TCP6_LISTEN_LINE, 'ipv6'],
    ['tcp6', REAL_TCP6_LINE, 'ipv6'],
  ] as const)('rejects a %s line with any hex digit of its fields replaced', (_, line, family) => {
    const stateAt = line.indexOf(' ', line.indexOf(' ', line.indexOf(':') + 2) + 1) + 1;
    const state = line.slice(stateAt, stateAt + 2);
    // Up to the state; LISTEN and TIME_WAIT also rx_queue and when, TIME_WAIT tr too.
    const read = (at: number) =>
      at < stateAt + 2 ||
      ((state === '0A' || state === '06') &&
        ((at >= stateAt + 12 && at < stateAt + 20) || (at >= stateAt + 24 && at < stateAt + 32))) ||
      (state === '06' && at >= stateAt + 21 && at < stateAt + 23);
    for (let at = line.indexOf(':') + 2; at < stateAt + 32; at++) {
      if (!/[0-9A-F]/.test(line[at] as string) || !read(at)) continue;
      for (const byte of NOT_HEX) {
        const bytes = Buffer.from(line, 'latin1');
        bytes[at] = byte;
        expect(decode(bytes, family).ok, `byte ${byte} at ${at}`).toBe(false);
      }
    }
  });

  it('reads lower-case hex as upper-case, in every field', () => {
    for (const [line, family] of [
      [REAL_TCP6_LINE.replace(/01000000/g, 'ABCDEF01'), 'ipv6'],
      [REAL_TCP_LINE.replace('00000000:07E8', 'C0FFEE0A:BEEF'), 'ipv4'],
    ] as const) {
      const upper = decode(line, family);
      expect(upper.ok).toBe(true);
      expect(decode(line.toLowerCase(), family)).toEqual(upper);
    }
  });

  it.each([
    ['tcp', 'ipv4', [198, 18, 0, 1], [198, 18, 0, 2]],
    ['tcp6', 'ipv6', [0xfd, ...Array(14).fill(0), 1], [0xfd, ...Array(14).fill(0), 2]],
  ] as const)(
    'treats a %s line cut short alike in every state and every line shape',
    (_, family, local, remote) => {
      for (let state = 1; state <= 11; state++) {
        for (const shape of ['full', 'timewait', 'request'] as const) {
          const line = formatSocketLine(0, {
            local,
            localPort: 9000,
            remote,
            remotePort: 40000,
            state,
            shape,
          });
          const at = stateAt(line);
          expect(line.slice(at, at + 2)).toBe(state.toString(16).toUpperCase().padStart(2, '0'));
          // Cut anywhere in `ST TX:RX TR:WHEN `: malformed; with all of it: a socket.
          for (let end = at + 2; end < at + 33; end++) {
            expect(
              decode(line.slice(0, end), family).ok,
              `state ${state} ${shape} cut at ${end}`,
            ).toBe(false);
          }
          expect(decode(line.slice(0, at + 33), family).ok, `state ${state} ${shape}`).toBe(true);
        }
      }
    },
  );

  it('never keeps an inbound socket whose listener, cut the same way, was dropped', () => {
    const server = [198, 18, 0, 1];
    const client = [198, 18, 0, 2];
    const lines = formatTable('ipv4', [
      { local: server, localPort: 9000, remote: [0, 0, 0, 0], remotePort: 0, state: 10 },
      { local: server, localPort: 9000, remote: client, remotePort: 50000, state: 1 },
      { local: client, localPort: 50001, remote: server, remotePort: 443, state: 1 },
    ]).split('\n');
    // The listener and its inbound connection cut after the state field.
    const cut = (line: string) => line.slice(0, stateAt(line) + 3);
    const text = [lines[0], cut(lines[1] as string), cut(lines[2] as string), lines[3], ''].join(
      '\n',
    );
    sharedAccumulator.begin(ephemeralSettings());
    const stats = decodeText(sharedReader, Buffer.from(text), 'ipv4', sharedAccumulator);
    const aggregates = sharedAccumulator.finish(LIMITS);
    expect({ sockets: stats.sockets, malformed: stats.malformed }).toEqual({
      sockets: 1,
      malformed: 2,
    });
    expect(aggregates.remotePorts.map((row) => row.port)).toEqual([443]);
    expect(aggregates.listenPorts).toEqual([]);
  });

  it('rejects a tcp line in the tcp6 table', () => {
    expect(decode(REAL_TCP_LINE, 'ipv6')).toEqual({ ok: false, seen: [] });
  });
});

const workDir = mkdtempSync(join(tmpdir(), 'tcp-table-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
let fileCounter = 0;

function writeTable(text: string | Buffer): string {
  const path = join(workDir, `table-${fileCounter++}`);
  writeFileSync(path, text);
  return path;
}

const LIMITS = { maxListenPorts: 64, topRemotePorts: 20, topDestinations: 10 };

// One reader and accumulator for every read, as a sampler keeps them: proves reuse resets.
const sharedReader = new TcpTableReader();
const sharedAccumulator = new SocketAccumulator();

function readAll(path: string, family: 'ipv4' | 'ipv6', readChunkBytes?: number) {
  sharedAccumulator.begin(ephemeralSettings());
  const stats = sharedReader.read(path, family, sharedAccumulator, readChunkBytes);
  return { stats, aggregates: sharedAccumulator.finish(LIMITS) };
}

/**
 * readAll, or, when the reader refuses the table as one the kernel cannot print, the counts
 * of the same bytes decoded in memory, after checking that the refusal gives that reason.
 */
function readOrRefuse(path: string, family: 'ipv4' | 'ipv6', readChunkBytes?: number) {
  try {
    return readAll(path, family, readChunkBytes);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    sharedAccumulator.begin(ephemeralSettings());
    const stats = decodeText(sharedReader, readFileSync(path), family, sharedAccumulator);
    const problem = tableProblem(stats);
    expect(problem).toBeDefined();
    expect(error.message).toBe(`cannot use ${path}: ${problem}`);
    return { stats, aggregates: sharedAccumulator.finish(LIMITS) };
  }
}

const socketArbitrary = (family: 'ipv4' | 'ipv6') =>
  fc.record({
    local: fc.array(fc.nat(255), {
      minLength: family === 'ipv4' ? 4 : 16,
      maxLength: family === 'ipv4' ? 4 : 16,
    }),
    localPort: fc.nat(65535),
    remote: fc.array(fc.nat(255), {
      minLength: family === 'ipv4' ? 4 : 16,
      maxLength: family === 'ipv4' ? 4 : 16,
    }),
    remotePort: fc.nat(65535),
    state: fc.integer({ min: 1, max: 11 }),
    shape: fc.constantFrom('full', 'timewait', 'request'),
    inode: fc.nat(),
  }) as fc.Arbitrary<KernelSocket>;

/** Reference: counts per state straight from the generated sockets. */
function expectedStates(sockets: readonly KernelSocket[]): Record<string, number> {
  const counts = Object.fromEntries(TCP_STATES.map((state) => [state, 0]));
  for (const socket of sockets) (counts[TCP_STATES[socket.state - 1] as string] as number)++;
  return counts;
}

describe('TcpTableReader', () => {
  const sockets: KernelSocket[] = Array.from({ length: 120 }, (_, i) => ({
    local: [198, 18, 0, 1 + (i % 3)],
    localPort: i % 7 === 0 ? 9000 : 33000 + i,
    remote: [198, 18, 1, 1 + (i % 5)],
    remotePort: i % 7 === 0 ? 40000 + i : ([9000, 8080, 443][i % 3] as number),
    state: i % 7 === 0 && i % 2 === 0 ? 10 : 1 + (i % 11),
  }));
  const tcp6Sockets: KernelSocket[] = sockets.slice(0, 60).map((socket, i) => ({
    ...socket,
    local: i % 2 === 0 ? ipv4Mapped(socket.local) : [0xfd, 0, ...Array(13).fill(0), 1 + (i % 3)],
    remote: i % 2 === 0 ? ipv4Mapped(socket.remote) : [0xfd, 0, ...Array(13).fill(0), 9],
  }));

  it('gives identical results for every read size from 1 byte to 4 KiB', () => {
    const tcpPath = writeTable(formatTable('ipv4', sockets));
    const tcp6Path = writeTable(formatTable('ipv6', tcp6Sockets));
    const reference = {
      tcp: readAll(tcpPath, 'ipv4'),
      tcp6: readAll(tcp6Path, 'ipv6'),
    };
    expect(reference.tcp.stats.sockets).toBe(sockets.length);
    expect(reference.tcp.stats.malformed).toBe(0);
    expect(reference.tcp6.stats.sockets).toBe(tcp6Sockets.length);
    for (let size = 1; size <= 4096; size++) {
      const tcp = readAll(tcpPath, 'ipv4', size);
      const tcp6 = readAll(tcp6Path, 'ipv6', size);
      // toEqual on every size would dominate the run time; compare serialised forms.
      if (JSON.stringify(tcp) !== JSON.stringify(reference.tcp)) expect(tcp).toEqual(reference.tcp);
      if (JSON.stringify(tcp6) !== JSON.stringify(reference.tcp6))
        expect(tcp6).toEqual(reference.tcp6);
    }
  });

  it('reports a missing file as not present instead of failing', () => {
    const { stats } = readAll(join(workDir, 'no-such-table'), 'ipv6');
    expect(stats).toMatchObject({ present: false, bytes: 0, lines: 0, sockets: 0 });
  });

  it('throws an error naming the path when the file cannot be read', () => {
    expect(() => readAll(workDir, 'ipv4')).toThrow(workDir);
  });

  it('counts a truncated last line as malformed, never as a socket', () => {
    // 120 lines: one malformed is within the share a table may have (MAX_MALFORMED_SHARE).
    const text = formatTable('ipv4', sockets);
    const cut = text.slice(0, text.length - 40);
    const { stats } = readAll(writeTable(cut), 'ipv4');
    expect(stats).toMatchObject({ lines: 120, sockets: 119, malformed: 1, bytes: cut.length });
  });

  it('skips a line longer than the whole buffer and goes on', () => {
    const [header, first, ...rest] = formatTable('ipv4', sockets).trimEnd().split('\n');
    const huge = `${first}${'X'.repeat(600 * 1024)}`;
    const text = [header, huge, ...rest, ''].join('\n');
    const { stats } = readAll(writeTable(text), 'ipv4');
    expect(stats).toMatchObject({ lines: 120, sockets: 119, malformed: 1 });
  });

  it('round-trips generated tables in the kernel line formats (property)', () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      fc.assert(
        fc.property(
          fc.array(socketArbitrary(family), { maxLength: 300 }),
          fc.integer({ min: 1, max: 5000 }),
          (generated, chunk) => {
            const { stats, aggregates } = readAll(
              writeTable(formatTable(family, generated)),
              family,
              chunk,
            );
            expect(stats.sockets).toBe(generated.length);
            expect(stats.malformed).toBe(0);
            expect(aggregates.states[family]).toEqual(expectedStates(generated));
          },
        ),
        { numRuns: 60 },
      );
    }
  });

  it('never throws on random bytes but to refuse the table, and every line is either a socket or malformed (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 20_000 }),
        fc.integer({ min: 1, max: 4096 }),
        (bytes, chunk) => {
          const { stats } = readOrRefuse(writeTable(Buffer.from(bytes)), 'ipv4', chunk);
          expect(stats.sockets + stats.malformed).toBe(stats.lines);
          expect(stats.bytes).toBe(bytes.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never counts a corrupted line as a socket (property)', () => {
    const corruptions = [
      (line: string, at: number) => `${line.slice(0, at)}G${line.slice(at + 1)}`,
      (line: string, at: number) => line.slice(0, Math.min(at, 40)),
      (line: string) => line.replace(/ ([0-9A-F]{2}) /, ' 0C '),
      (line: string) => line.replace(/ ([0-9A-F]{2}) /, ' 00 '),
      (line: string) => line.replace(':', ';'),
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            socketArbitrary('ipv4'),
            fc.boolean(),
            fc.nat(4),
            fc.integer({ min: 6, max: 31 }),
          ),
          {
            maxLength: 80,
          },
        ),
        (rows) => {
          const lines = rows.map(([socket, corrupt, kind, at], slot) => {
            const line = formatSocketLine(slot, socket);
            return corrupt
              ? (corruptions[kind] as (l: string, a: number) => string)(line, at)
              : line;
          });
          const text = `${formatTable('ipv4', []).trimEnd()}\n${lines.map((line) => `${line}\n`).join('')}`;
          const intact = rows.filter(([, corrupt]) => !corrupt).map(([socket]) => socket);
          const { stats, aggregates } = readOrRefuse(writeTable(text), 'ipv4');
          expect(stats.sockets).toBe(intact.length);
          expect(stats.malformed).toBe(rows.length - intact.length);
          expect(aggregates.states.ipv4).toEqual(expectedStates(intact));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never counts a line cut by a random truncation (property)', () => {
    const text = formatTable('ipv4', sockets);
    const lineEnds = [...text.matchAll(/\n/g)].map((match) => (match.index ?? 0) + 1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length }), (cut) => {
        const { stats } = readOrRefuse(writeTable(text.slice(0, cut)), 'ipv4');
        const completeLines = lineEnds.filter((end) => end <= cut).length;
        const completeSockets = Math.max(0, completeLines - 1);
        expect(stats.sockets).toBe(completeSockets);
        const partial = cut > (lineEnds[completeLines - 1] ?? 0) && completeLines >= 1 ? 1 : 0;
        expect(stats.malformed).toBe(partial);
      }),
      { numRuns: 200 },
    );
  });
});
