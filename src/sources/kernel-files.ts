/** Small /proc files (O(1) size): read whole, errors carry the path. */
import { readFileSync } from 'node:fs';

export class SourceError extends Error {}

/** The file's text, or undefined when it does not exist. Other errors name the path. */
export function readOptionalText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new SourceError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
}

export function readRequiredText(path: string): string {
  const text = readOptionalText(path);
  if (text === undefined) throw new SourceError(`cannot read ${path}: ENOENT (no such file)`);
  return text;
}

/** A decimal integer as the kernel prints it (counters may be negative, e.g. Tcp MaxConn -1). */
export function parseKernelInteger(text: string): number | undefined {
  if (!/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}
