/**
 * A private tracefs instance (docs/connect-errors.md): its own ring buffer with only the
 * syscall exit events asked for, each filtered in the kernel, so other tracers on the host
 * are untouched and nothing but the failures reaches user space. Named after the exporter's
 * pid namespace and pid, so that two exporters on one host (or in two containers) never
 * share one; a stale instance left by a killed exporter is removed at start. Needs tracefs
 * and CAP_SYS_ADMIN (or root's ownership of the tracefs files).
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { readOptionalText, SourceError } from './kernel-files.js';

/** Where tracefs mounts; the second is the debugfs path of older setups. */
export const DEFAULT_TRACEFS = '/sys/kernel/tracing';
const DEBUGFS_TRACEFS = '/sys/kernel/debug/tracing';

const INSTANCE_PREFIX = 'tcpstate-exporter-';

/** One syscall exit event and its in-kernel filter, e.g. `syscalls/sys_exit_connect`, `ret == -99`. */
export interface TracedEvent {
  readonly event: string;
  readonly filter: string;
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/**
 * Whether `path` exists, by stat(): existsSync() asks access(), which drops the capabilities
 * of a non-root caller, so a user given CAP_DAC_OVERRIDE (the systemd drop-in) would see no
 * tracefs. Unreadable counts as absent, as with existsSync().
 */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function privilegeHint(code: string): string {
  return code === 'EACCES' || code === 'EPERM' ? ' (needs CAP_SYS_ADMIN, or root)' : '';
}

/**
 * The tracefs mount to use: `path` when it holds `instances/`; for the default path, tracefs
 * is mounted there when absent, then the debugfs path is tried.
 */
export function locateTracefs(path: string): string {
  if (exists(join(path, 'instances'))) return path;
  if (path !== DEFAULT_TRACEFS) throw new SourceError(`no tracefs at ${path} (no instances/)`);
  let mountError = '';
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', path], { stdio: 'pipe', timeout: 5_000 });
    if (exists(join(path, 'instances'))) return path;
  } catch (error) {
    mountError = `: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  if (exists(join(DEBUGFS_TRACEFS, 'instances'))) return DEBUGFS_TRACEFS;
  throw new SourceError(
    `no tracefs: ${path} is not mounted and mounting it failed${mountError} (needs CAP_SYS_ADMIN)`,
  );
}

/** This process's pid namespace inode: pids of two namespaces must not make one name. */
function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

/** `tcpstate-exporter-<pid namespace>-<pid>-<n>`: the n-th instance this process made. */
export function instanceName(pidNs: string, pid: number, n: number): string {
  return `${INSTANCE_PREFIX}${pidNs}-${pid}-${n}`;
}

/** The instances this process holds open now: never stale. */
const held = new Set<string>();
let made = 0;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) === 'EPERM';
  }
}

/**
 * Removes the instances of exporters that are gone: in this pid namespace, those whose pid
 * is not alive (or is this process's, from a dead one that had it, and not held now); from
 * another (another container), those whose trace_pipe nobody holds open (the kernel refuses
 * to remove an instance being read: EBUSY). Returns the names removed.
 */
export function removeStaleInstances(tracefs: string): string[] {
  const pidNs = pidNamespace();
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(join(tracefs, 'instances'));
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = /^tcpstate-exporter-(\d+)-(\d+)-\d+$/.exec(name);
    if (match === null || held.has(name)) continue;
    const pid = Number(match[2]);
    if (match[1] === pidNs && pid !== process.pid && processAlive(pid)) continue;
    try {
      rmdirSync(join(tracefs, 'instances', name));
      removed.push(name);
    } catch {
      // EBUSY: a live exporter reads it.
    }
  }
  return removed;
}

export class TracefsInstance {
  private fd: number | undefined;
  private closed = false;

  private constructor(
    /** The instance's directory. */
    readonly path: string,
    private readonly name: string,
    private readonly events: readonly TracedEvent[],
  ) {}

  /**
   * Creates the instance (after removing stale ones), filters and enables the events, and
   * opens its trace_pipe without blocking. Throws a SourceError naming what failed; a half-made
   * instance is removed again.
   */
  static open(
    tracefsPath: string,
    events: readonly TracedEvent[],
  ): { instance: TracefsInstance; staleRemoved: string[] } {
    const tracefs = locateTracefs(tracefsPath);
    const staleRemoved = removeStaleInstances(tracefs);
    made++;
    const name = instanceName(pidNamespace(), process.pid, made);
    const path = join(tracefs, 'instances', name);
    try {
      mkdirSync(path);
    } catch (error) {
      const code = errnoOf(error);
      throw new SourceError(
        `cannot create tracefs instance ${path}: ${code}${privilegeHint(code)}`,
      );
    }
    held.add(name);
    const instance = new TracefsInstance(path, name, events);
    try {
      for (const { event, filter } of events) {
        const dir = join(path, 'events', event);
        if (!exists(dir)) {
          throw new SourceError(
            `no ${event} event in ${tracefs} (a kernel without CONFIG_FTRACE_SYSCALLS)`,
          );
        }
        instance.write(join(dir, 'filter'), filter);
        instance.write(join(dir, 'enable'), '1');
      }
      instance.fd = openSync(join(path, 'trace_pipe'), constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      instance.close();
      throw error instanceof SourceError
        ? error
        : new SourceError(`cannot open ${path}/trace_pipe: ${errnoOf(error)}`);
    }
    return { instance, staleRemoved };
  }

  private write(file: string, text: string): void {
    try {
      writeFileSync(file, text);
    } catch (error) {
      const code = errnoOf(error);
      throw new SourceError(`cannot write ${file}: ${code}${privilegeHint(code)}`);
    }
  }

  /**
   * What trace_pipe holds now, consumed, at most `maxBytes`; empty when nothing is pending.
   * Never waits: the pipe was opened O_NONBLOCK, so an empty one answers EAGAIN.
   */
  read(buffer: Buffer, maxBytes = buffer.length): Buffer {
    if (this.fd === undefined) return buffer.subarray(0, 0);
    let total = 0;
    while (total < maxBytes) {
      let read: number;
      try {
        read = readSync(this.fd, buffer, total, Math.min(buffer.length, maxBytes) - total, null);
      } catch (error) {
        if (errnoOf(error) === 'EAGAIN') break;
        throw new SourceError(`cannot read ${this.path}/trace_pipe: ${errnoOf(error)}`);
      }
      if (read === 0) break;
      total += read;
    }
    return buffer.subarray(0, total);
  }

  /** Events the ring buffer lost since the instance was made (overwritten or dropped), all CPUs. */
  lostEvents(): number {
    let lost = 0;
    let cpus: string[] = [];
    try {
      cpus = readdirSync(join(this.path, 'per_cpu'));
    } catch {
      return lost;
    }
    for (const cpu of cpus) {
      const text = readOptionalText(join(this.path, 'per_cpu', cpu, 'stats'));
      if (text !== undefined) lost += parseLostEvents(text);
    }
    return lost;
  }

  /** Disables the events, closes the pipe and removes the instance; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    for (const { event } of this.events) {
      try {
        writeFileSync(join(this.path, 'events', event, 'enable'), '0');
      } catch {
        // Removing the instance disables them too.
      }
    }
    try {
      rmdirSync(this.path);
    } catch {
      // Already gone, or removed by a racing exporter's stale sweep.
    }
    held.delete(this.name);
  }
}

/** `overrun:` (overwritten) plus `dropped events:` (buffer full) of a per_cpu/cpuN/stats text. */
export function parseLostEvents(stats: string): number {
  let lost = 0;
  for (const line of stats.split('\n')) {
    const match = /^(overrun|dropped events): (\d+)$/.exec(line.trim());
    if (match?.[2] !== undefined) lost += Number(match[2]);
  }
  return lost;
}
