/**
 * What every part of the bench shares: options, output, the synthetic tables (written
 * once per size, removed at exit whatever happens) and the cleanups to run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from './options.js';
import { formatSize } from './options.js';
import type { BenchRecord } from './results.js';
import { type SyntheticTable, writeSyntheticProcfs } from './synthetic-table.js';

export class BenchContext {
  readonly records: BenchRecord[] = [];
  private readonly workDir: string;
  private readonly tables = new Map<number, SyntheticTable>();

  constructor(readonly options: BenchOptions) {
    // tmpfs when there is one: the synthetic tables then cost no disk I/O.
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    this.workDir = mkdtempSync(join(base, `tsb-${process.pid}-`));
  }

  emit(record: BenchRecord): void {
    this.records.push(record);
    if (this.options.json) process.stdout.write(`${JSON.stringify(record)}\n`);
  }

  note(phase: string, text: string): void {
    this.log(`note: ${text}`);
    this.emit({ kind: 'note', phase, text });
  }

  log(message: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  /** Repeats for a table of `size` sockets: many on small tables, a few on large ones. */
  runs(size: number): number {
    const base = size <= 20_000 ? 30 : size <= 200_000 ? 10 : 6;
    return Math.max(2, Math.round(base * this.options.effort));
  }

  /** A procfs tree with a synthetic table of `size` sockets, written on first use. */
  syntheticTable(size: number): SyntheticTable {
    let table = this.tables.get(size);
    if (table === undefined) {
      this.log(`writing a synthetic table of ${formatSize(size)} sockets`);
      table = writeSyntheticProcfs(join(this.workDir, `synthetic-${size}`), size);
      this.tables.set(size, table);
    }
    return table;
  }

  /** An empty directory under the bench's work directory. */
  scratchDir(name: string): string {
    return mkdtempSync(join(this.workDir, `${name}-`));
  }

  /** Removes every file the bench wrote; safe to call more than once. */
  cleanup(): void {
    rmSync(this.workDir, { recursive: true, force: true });
    this.tables.clear();
  }
}
