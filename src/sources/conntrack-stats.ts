/**
 * Conntrack's size and event counters: net/stat/nf_conntrack (a header line of names, then
 * one row of 8-digit hex values per possible CPU) and the table's limit, nf_conntrack_max.
 * The rows hold per-CPU counters, except `entries`: every row repeats the namespace's entry
 * count (ct_cpu_seq_show in net/netfilter/nf_conntrack_standalone.c), so it is taken once.
 * Columns are matched by name; a column the kernel lacks stays absent (see docs/conntrack.md).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseKernelInteger, readOptionalText, SourceError } from './kernel-files.js';

/** The counters exported, by event label, and the header column each is printed under. */
export const CONNTRACK_EVENT_COLUMNS = {
  insert_failed: 'insert_failed',
  drop: 'drop',
  early_drop: 'early_drop',
  clash_resolve: 'clashres',
  search_restart: 'search_restart',
  invalid: 'invalid',
} as const;

export type ConntrackEvent = keyof typeof CONNTRACK_EVENT_COLUMNS;

export interface ConntrackStats {
  /** Entries in this namespace's table; absent when the kernel prints no `entries` column. */
  readonly entries?: number;
  /** nf_conntrack_max: one limit for every namespace, each namespace's entries counted against it. */
  readonly limit?: number;
  /** Per-CPU rows summed, by event label; an event the kernel does not print is absent. */
  readonly events: Readonly<Partial<Record<ConntrackEvent, number>>>;
}

const HEX_FIELD = /^[0-9a-fA-F]{1,8}$/;

export function parseConntrackStats(
  text: string,
  path = 'nf_conntrack',
): Omit<ConntrackStats, 'limit'> {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const [header, ...rows] = lines;
  if (header === undefined) throw new SourceError(`${path}: empty (no header line)`);
  const names = header.trim().split(/\s+/);
  if (!names.includes('entries') && !names.includes('insert_failed')) {
    throw new SourceError(`${path}: the first line is not the header (no entries column)`);
  }
  if (rows.length === 0) throw new SourceError(`${path}: no per-CPU row`);
  const sums = new Array<number>(names.length).fill(0);
  rows.forEach((row, index) => {
    const fields = row.trim().split(/\s+/);
    if (fields.length !== names.length) {
      throw new SourceError(
        `${path}: row ${index + 1} has ${fields.length} fields, the header ${names.length}`,
      );
    }
    fields.forEach((field, column) => {
      if (!HEX_FIELD.test(field)) {
        throw new SourceError(`${path}: row ${index + 1}: "${field}" is not a hex counter`);
      }
      sums[column] = (sums[column] as number) + Number.parseInt(field, 16);
    });
  });
  const events: Partial<Record<ConntrackEvent, number>> = {};
  for (const [event, column] of Object.entries(CONNTRACK_EVENT_COLUMNS)) {
    const at = names.indexOf(column);
    if (at !== -1) events[event as ConntrackEvent] = sums[at] as number;
  }
  const entriesAt = names.indexOf('entries');
  const firstRow = (rows[0] as string).trim().split(/\s+/);
  return entriesAt === -1
    ? { events }
    : { entries: Number.parseInt(firstRow[entriesAt] as string, 16), events };
}

export const CONNTRACK_MAX = 'net/netfilter/nf_conntrack_max';

/**
 * nf_conntrack_max, the same in every namespace (read-only outside the first): from the
 * root's `sys/`, or, for a `/proc/<pid>` root, which has none, from the procfs beside it.
 */
function readLimit(procfsRoot: string): number | undefined {
  const sys = existsSync(join(procfsRoot, 'sys'))
    ? join(procfsRoot, 'sys')
    : join(dirname(procfsRoot), 'sys');
  const path = join(sys, CONNTRACK_MAX);
  const text = readOptionalText(path);
  if (text === undefined) return undefined;
  const value = parseKernelInteger(text.trim());
  if (value === undefined) throw new SourceError(`${path}: "${text.trim()}" is not a number`);
  return value;
}

/** The error for a conntrack file that does not exist: the module is absent. */
export function conntrackAbsent(path: string): SourceError {
  return new SourceError(
    `conntrack is absent: no ${path} (nf_conntrack not loaded, or built without procfs support)`,
  );
}

/** Throws a SourceError naming the path when conntrack is absent or its file is malformed. */
export function readConntrackStats(procfsRoot: string): ConntrackStats {
  const path = join(procfsRoot, 'net/stat/nf_conntrack');
  const text = readOptionalText(path);
  if (text === undefined) throw conntrackAbsent(path);
  const stats = parseConntrackStats(text, path);
  const limit = readLimit(procfsRoot);
  return limit === undefined ? stats : { ...stats, limit };
}
