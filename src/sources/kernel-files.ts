/**
 * Opening and reading /proc files so that nothing the file system hands back can block or
 * flood the sampler: opens never wait (O_NONBLOCK: a FIFO without a writer would block
 * open() forever), anything but a regular file is refused (procfs files are regular; a FIFO
 * or a character device such as /dev/zero in their place is a mistake or an attack), and
 * every file is read up to a size cap. Errors carry the path.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export class SourceError extends Error {}

/**
 * Small files (sockstat, netstat, snmp, sysctls) are a few KiB; the longest is
 * ip_local_reserved_ports, at most ~190 KiB with every other port reserved.
 */
export const SMALL_FILE_MAX_BYTES = 256 * 1024;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function fileKind(stats: ReturnType<typeof fstatSync>): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/**
 * An fd of the regular file at `path`, or undefined when it does not exist. Never blocks:
 * anything but a regular file is closed again and refused with its kind.
 */
export function openRegularFile(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SourceError(`cannot read ${path}: ${errorCode(error)}`);
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw new SourceError(`cannot read ${path}: ${fileKind(stats)}, not a regular file`);
  }
  return fd;
}

/** The message for a file that grew past its cap. */
export function oversizedFileMessage(path: string, capBytes: number): string {
  return `cannot read ${path}: larger than ${capBytes} bytes, the most this file can hold`;
}

/** Fills `buffer` from `offset` with at most `length` bytes; 0 at the end. */
export type ReadInto = (buffer: Buffer, offset: number, length: number) => number;

/**
 * Streams the open file `fd` through `decode`, each read capped at `readChunkBytes` (tests
 * of the line carry-over) and the whole at `maxBytes`; any error names the path, and the
 * file is closed whatever happens.
 */
export function decodeFile<Result>(
  fd: number,
  path: string,
  limits: { readonly maxBytes: number; readonly readChunkBytes: number },
  decode: (readInto: ReadInto) => Result,
): Result {
  try {
    let total = 0;
    return decode((buffer, offset, length) => {
      const read = readSync(fd, buffer, offset, Math.min(length, limits.readChunkBytes), null);
      total += read;
      if (total > limits.maxBytes)
        throw new SourceError(oversizedFileMessage(path, limits.maxBytes));
      return read;
    });
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError(`cannot read ${path}: ${errorCode(error)}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * The one buffer small files are read into, a thread's own (reads are synchronous, so never
 * two at once): a netns round reads three files per namespace, and a fresh 64 KiB buffer for
 * each was a tenth of its CPU, plus the garbage.
 */
const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;

/** The file's text, or undefined when it does not exist. Other errors name the path. */
export function readOptionalText(
  path: string,
  capBytes = SMALL_FILE_MAX_BYTES,
): string | undefined {
  const fd = openRegularFile(path);
  if (fd === undefined) return undefined;
  try {
    // procfs reports size 0, so read until the end, one byte past the cap to detect it.
    scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
    const buffer = scratch;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, capBytes + 1 - total), null);
      if (read === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, read)));
      total += read;
      if (total > capBytes) throw new SourceError(oversizedFileMessage(path, capBytes));
    }
    return chunks.length === 1
      ? (chunks[0] as Buffer).toString('latin1')
      : Buffer.concat(chunks, total).toString('latin1');
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError(`cannot read ${path}: ${errorCode(error)}`);
  } finally {
    closeSync(fd);
  }
}

export function readRequiredText(path: string, capBytes = SMALL_FILE_MAX_BYTES): string {
  const text = readOptionalText(path, capBytes);
  if (text === undefined) throw new SourceError(`cannot read ${path}: ENOENT (no such file)`);
  return text;
}

/** A decimal integer as the kernel prints it (counters may be negative, e.g. Tcp MaxConn -1). */
export function parseKernelInteger(text: string): number | undefined {
  if (!/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** The named fields a parser found, typed: the rest of the file's fields are not kept. */
export function pickFields<Field extends string>(
  values: Readonly<Record<string, number>>,
  fields: readonly Field[],
): Partial<Record<Field, number>> {
  const picked: Partial<Record<Field, number>> = {};
  for (const field of fields) {
    const value = values[field];
    if (value !== undefined) picked[field] = value;
  }
  return picked;
}
