/**
 * The lines a tracefs instance's trace_pipe prints for syscall exit events, e.g.
 * `  python3-10082   [000] ..... 11034.357495: sys_bind -> 0xffffffffffffff9e`: the task's
 * comm (which may hold spaces and dashes) and thread id, the CPU, flags, the time, the
 * syscall and its return value as an unsigned hex long. A read may end mid-line: the
 * splitter carries the partial line over to the next chunk.
 */

export interface SyscallExit {
  /** `connect`, `bind`: the event's name without `sys_`. */
  readonly syscall: string;
  /** The thread id (common_pid): /proc/<tid> reaches its process and namespace. */
  readonly tid: number;
  /** The return value, negative for an errno (-99: EADDRNOTAVAIL). */
  readonly ret: number;
}

const EXIT_LINE =
  /^\s*.*-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[\d+\]\s+\S+\s+\d+\.\d+: sys_(\w+) -> 0x([0-9a-f]+)$/;
/** What trace_pipe says where its per-CPU buffer overflowed between two reads. */
const LOST_LINE = /^CPU:\d+ \[LOST (\d+) EVENTS\]$/;

/** 64-bit two's complement, as the kernel prints a long with %lx. */
function signedLong(hex: string): number {
  const value = BigInt.asIntN(64, BigInt(`0x${hex}`));
  return Number(value);
}

export type TraceLine =
  | { readonly kind: 'exit'; readonly exit: SyscallExit }
  | { readonly kind: 'lost'; readonly count: number };

/** One line (without its newline); undefined for anything else. */
export function parseTraceLine(line: string): TraceLine | undefined {
  const exit = EXIT_LINE.exec(line);
  if (exit !== null) {
    const [, tid, syscall, hex] = exit as unknown as [string, string, string, string];
    return { kind: 'exit', exit: { syscall, tid: Number(tid), ret: signedLong(hex) } };
  }
  const lost = LOST_LINE.exec(line.trim());
  if (lost?.[1] !== undefined) return { kind: 'lost', count: Number(lost[1]) };
  return undefined;
}

/** Splits chunks into whole lines, keeping an unfinished last line for the next chunk. */
export class LineSplitter {
  private partial = '';

  /** The whole lines `chunk` completes. */
  push(chunk: string): string[] {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    return lines;
  }
}
