import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SocketAccumulator } from '../../src/snapshot/socket-accumulator.js';
import {
  readOptionalText,
  readRequiredText,
  SMALL_FILE_MAX_BYTES,
} from '../../src/sources/kernel-files.js';
import { TcpTableReader } from '../../src/sources/tcp-table.js';
import { ephemeralSettings } from '../../testkit/kernel/ephemeral-settings.js';
import { formatTable } from '../../testkit/kernel/kernel-format.js';

const workDir = mkdtempSync(join(tmpdir(), 'kernel-files-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const path = join(workDir, name);
  writeFileSync(path, text);
  return path;
}

/** A FIFO nobody writes: a blocking open() of it never returns. */
function fifo(name: string): string {
  const path = join(workDir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

function readTable(path: string, maxBytes?: number) {
  const accumulator = new SocketAccumulator();
  accumulator.begin(ephemeralSettings());
  return new TcpTableReader(maxBytes).read(path, 'ipv4', accumulator);
}

describe('small procfs files', () => {
  it('refuses a FIFO without blocking, naming the file and what it is', () => {
    const path = fifo('sockstat-fifo');
    expect(() => readRequiredText(path)).toThrow(`cannot read ${path}: a FIFO, not a regular file`);
  });

  it('refuses a character device such as /dev/zero instead of reading it without end', () => {
    const path = join(workDir, 'sockstat-zero');
    symlinkSync('/dev/zero', path);
    expect(() => readOptionalText(path)).toThrow(
      `cannot read ${path}: a character device, not a regular file`,
    );
  });

  it('reads a file up to the cap and refuses a larger one with the cap in the message', () => {
    const atCap = file('at-cap', 'x'.repeat(SMALL_FILE_MAX_BYTES));
    expect(readRequiredText(atCap)).toHaveLength(SMALL_FILE_MAX_BYTES);
    const over = file('over-cap', 'x'.repeat(SMALL_FILE_MAX_BYTES + 1));
    expect(() => readRequiredText(over)).toThrow(
      `cannot read ${over}: larger than ${SMALL_FILE_MAX_BYTES} bytes, the most this file can hold`,
    );
  });

  it('reports a missing file as absent', () => {
    expect(readOptionalText(join(workDir, 'missing'))).toBeUndefined();
  });
});

describe('socket tables the kernel cannot have printed', () => {
  const header = formatTable('ipv4', []);

  it.each([
    ['empty', '', 'empty (the kernel always prints a header line)'],
    ['without a newline', header.trimEnd(), 'no newline (the kernel ends every line with one)'],
    [
      'without the header',
      'garbage\n',
      'the first line is not the header (no local_address column)',
    ],
    [
      'with only malformed lines',
      `${header}junk\nmore junk\n`,
      'not one of its 2 lines is well-formed',
    ],
  ])('fails a table %s with the reason', (name, text, reason) => {
    const path = file(`table-${name.replaceAll(' ', '-')}`, text);
    expect(() => readTable(path)).toThrow(`cannot use ${path}: ${reason}`);
  });

  it('fails a table with more than 1% of its lines malformed, keeps one with 1%', () => {
    const sockets = (count: number) =>
      Array.from({ length: count }, (_, index) => ({
        local: [198, 18, 0, 1],
        localPort: 9000,
        remote: [198, 18, 0, 2],
        remotePort: 40_000 + index,
        state: 1,
      }));
    const within = file('one-in-a-hundred', `${formatTable('ipv4', sockets(99))}junk\n`);
    expect(readTable(within)).toMatchObject({ lines: 100, sockets: 99, malformed: 1 });
    const beyond = file('two-in-a-hundred', `${formatTable('ipv4', sockets(98))}junk\njunk\n`);
    expect(() => readTable(beyond)).toThrow(
      `cannot use ${beyond}: 2 of its 100 lines are malformed (more than 1%)`,
    );
    // What fault injection found: 255 bad lines of 455 reported success.
    const half = formatTable('ipv4', sockets(455))
      .split('\n')
      .map((line, index) => (index > 0 && index <= 255 ? line.replace(' 01 ', ' 0C ') : line))
      .join('\n');
    const injected = file('fault-injected', half);
    expect(() => readTable(injected)).toThrow(
      `cannot use ${injected}: 255 of its 455 lines are malformed (more than 1%)`,
    );
  });

  it('accepts a header alone: a namespace without sockets', () => {
    expect(readTable(file('header-only', header))).toMatchObject({ present: true, lines: 0 });
  });

  it('refuses a FIFO and a character device in place of the table', () => {
    const path = fifo('tcp-fifo');
    expect(() => readTable(path)).toThrow(`cannot read ${path}: a FIFO, not a regular file`);
    const zero = join(workDir, 'tcp-zero');
    symlinkSync('/dev/zero', zero);
    expect(() => readTable(zero)).toThrow(`cannot read ${zero}: a character device`);
  });

  it('refuses a table larger than the cap', () => {
    const path = file('big-table', `${header}${'x'.repeat(5000)}\n`);
    expect(() => readTable(path, 4096)).toThrow(
      `cannot read ${path}: larger than 4096 bytes, the most this file can hold`,
    );
  });
});
