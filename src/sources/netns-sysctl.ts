/**
 * The sysctls of another network namespace, read by entering it. /proc/sys/net always shows
 * the reader's own namespace (also under /proc/<pid>/root/proc/sys or through /proc/<pid>),
 * so a reader must setns() into the namespace, which needs CAP_SYS_ADMIN. Each read is one
 * util-linux `nsenter --net=<ns file> -- grep -sH '' <every file>`, which prints all of them
 * as `path:text` lines in one go, started by a long-lived reader shell (nsenter-shell.ts) so
 * that neither the event loop nor the sampling worker waits for it. A setns() in this
 * process would move a whole thread; a native addon would need a compiler at install.
 * docs/namespace-sysctls.md has the figures.
 */
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { readOptionalText, SourceError } from './kernel-files.js';
import { type NsenterAnswer, NsenterShell } from './nsenter-shell.js';
import {
  type EphemeralSettings,
  NAMESPACE_SYSCTL_NAMES,
  PORT_RANGE,
  readEphemeralSettings,
  readSysctls,
  type SysctlSource,
  type Sysctls,
  sysctlPath,
} from './sysctl.js';

/** A namespace's per-namespace sysctls; host-wide ones (tcp_mem, tcp_max_orphans) are not in it. */
export interface NamespaceSysctls {
  /** What the connect() model uses. */
  readonly ephemeral: EphemeralSettings;
  /** Every per-namespace numeric sysctl present, the port range and reserved ports. */
  readonly sysctls: Sysctls;
  /** True when these are a new namespace's kernel defaults, not the namespace's own values. */
  readonly assumed: boolean;
  /** Why they are assumed. */
  readonly reason?: string;
}

/**
 * Why a read failed: `unavailable` for the whole process (no CAP_SYS_ADMIN, no nsenter),
 * `denied` for this namespace (setns EPERM, or EACCES opening the ns file without ptrace
 * access), `failed` for anything else (the process left, a timeout, bad output).
 */
export type NamespaceReadFailure = 'unavailable' | 'denied' | 'failed';

export class NamespaceSysctlError extends SourceError {
  constructor(
    message: string,
    readonly failure: NamespaceReadFailure,
  ) {
    super(message);
  }
}

/** The namespace file of a procfs root that is a process directory (`/proc/<pid>`), else undefined. */
export function procfsRootNamespace(procfsRoot: string): string | undefined {
  // /proc itself has sys/ (the reader's namespace); /proc/<pid> has ns/ and no sys/.
  if (existsSync(join(procfsRoot, 'sys'))) return undefined;
  const nsFile = join(procfsRoot, 'ns/net');
  // lstat: following the link needs ptrace access to the process, which may be missing.
  return lstatSync(nsFile, { throwIfNoEntry: false }) === undefined ? undefined : nsFile;
}

/** CAP_SYS_ADMIN's bit in /proc/self/status CapEff. */
const CAP_SYS_ADMIN = 21n;

/** Why this process cannot enter namespaces at all, or undefined when it may try. */
export function namespaceEntryProblem(statusPath = '/proc/self/status'): string | undefined {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readOptionalText(statusPath) ?? '')?.[1];
  if (capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << CAP_SYS_ADMIN)) !== 0n) {
    return undefined;
  }
  return 'no CAP_SYS_ADMIN: entering a network namespace (setns) needs it';
}

/**
 * The defaults a new network namespace gets (Linux 5.4 and later; checked by reading a
 * namespace made with `unshare -n` inside one whose values were all changed). Left out:
 * tcp_max_tw_buckets, tcp_ehash_entries and tcp_max_syn_backlog, which the kernel sizes from
 * the TCP hash at boot, and tcp_tw_reuse_delay on kernels without it (before 6.14).
 */
const TW_REUSE_DELAY = 'net.ipv4.tcp_tw_reuse_delay';

const NEW_NAMESPACE_DEFAULTS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_local_port_range': '32768 60999',
  'net.ipv4.ip_local_reserved_ports': '',
  'net.ipv4.tcp_tw_reuse': '2',
  [TW_REUSE_DELAY]: '1000',
  'net.ipv4.tcp_fin_timeout': '60',
  'net.ipv4.tcp_timestamps': '1',
  'net.ipv4.tcp_syncookies': '1',
  'net.core.somaxconn': '4096',
};

/** Sysctls from a table of texts; optional ones the running kernel lacks are left out. */
function tableSource(table: Readonly<Record<string, string>>, origin: string): SysctlSource {
  return {
    text: (name) => table[name],
    describe: (name) => `${name} (${origin})`,
    partial: true,
  };
}

function namespaceSysctlsFrom(source: SysctlSource): Omit<NamespaceSysctls, 'assumed'> {
  const ephemeral = readEphemeralSettings(source);
  return { ephemeral, sysctls: readSysctls(source, ephemeral, 'namespace') };
}

let defaults: Omit<NamespaceSysctls, 'assumed'> | undefined;

/** A new namespace's kernel defaults, marked assumed with `reason`. */
export function assumedNamespaceSysctls(reason: string): NamespaceSysctls {
  if (defaults === undefined) {
    const table: Record<string, string> = { ...NEW_NAMESPACE_DEFAULTS };
    // The same kernel runs every namespace: this process's own /proc/sys tells whether it has it.
    if (!existsSync(sysctlPath('/proc', TW_REUSE_DELAY))) delete table[TW_REUSE_DELAY];
    defaults = namespaceSysctlsFrom(tableSource(table, 'new namespace default'));
  }
  return { ...defaults, assumed: true, reason };
}

export interface NamespaceReaderOptions {
  /** A read still running after this long is killed and fails. */
  readonly timeoutMs: number;
  /** The nsenter program; tests substitute one. */
  readonly nsenter?: string;
}

/** The files the child prints: its own /proc/sys, which shows the namespace it entered. */
const CHILD_PATHS = new Map(
  NAMESPACE_SYSCTL_NAMES.map((name) => [name, sysctlPath('/proc', name)]),
);

const PORT_RANGE_PATH = sysctlPath('/proc', PORT_RANGE);

/** ip_local_reserved_ports may list every other port (~190 KiB); the rest are a few bytes. */
const OUTPUT_MAX_BYTES = 1024 * 1024;

/** The shell's status for a program it cannot find. */
const NOT_FOUND = 127;

/** `path:text` lines → the text of each file that was there. */
function parseGrepOutput(output: string): Map<string, string> {
  const texts = new Map<string, string>();
  for (const line of output.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) texts.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return texts;
}

/**
 * Reads namespaces from inside them, each read in one of its reader shells (nsenter-shell.ts;
 * as many as reads run at once, kept for the next ones). Rejects with a NamespaceSysctlError
 * saying why; nothing it starts outlives the timeout.
 */
export class NsenterSysctlReader {
  private readonly idle: NsenterShell[] = [];
  private readonly busy = new Set<NsenterShell>();
  private closed = false;

  constructor(private readonly options: NamespaceReaderOptions) {}

  /** The namespace of `nsFile` (`<procfs>/<pid>/ns/net`). */
  async read(nsFile: string): Promise<NamespaceSysctls> {
    const fail = (why: string, failure: NamespaceReadFailure) =>
      new NamespaceSysctlError(`cannot read the sysctls of ${nsFile}: ${why}`, failure);
    if (this.closed) throw fail('closed', 'failed');
    // One line per read: a newline would split it.
    if (nsFile.includes('\n')) throw fail('a newline in the path', 'failed');
    const shell = this.idleShell() ?? this.newShell();
    this.busy.add(shell);
    let answer: NsenterAnswer;
    try {
      answer = await shell.run(nsFile, this.options.timeoutMs);
    } catch (error) {
      shell.kill();
      throw fail(error instanceof Error ? error.message : String(error), 'failed');
    } finally {
      this.busy.delete(shell);
    }
    if (this.closed) shell.kill();
    else this.idle.push(shell);
    const texts = parseGrepOutput(answer.output);
    // grep exits 2 when a file is missing (tcp_tw_reuse_delay before 6.14): the output
    // decides, and the port range is always there once inside.
    if (!texts.has(PORT_RANGE_PATH)) {
      const why = answer.output.trim() || `status ${answer.status}`;
      if (answer.status === NOT_FOUND) throw fail(why, 'unavailable');
      if (/Operation not permitted|Permission denied/.test(why)) throw fail(why, 'denied');
      throw fail(why, 'failed');
    }
    const source: SysctlSource = {
      text: (name) => texts.get(CHILD_PATHS.get(name) ?? ''),
      describe: (name) => `${name} in ${nsFile}`,
    };
    try {
      return { ...namespaceSysctlsFrom(source), assumed: false };
    } catch (error) {
      throw new NamespaceSysctlError(
        error instanceof Error ? error.message : String(error),
        'failed',
      );
    }
  }

  /** A kept shell that still works (one may have been killed from outside meanwhile). */
  private idleShell(): NsenterShell | undefined {
    for (let shell = this.idle.pop(); shell !== undefined; shell = this.idle.pop()) {
      if (shell.usable) return shell;
    }
    return undefined;
  }

  private newShell(): NsenterShell {
    const nsenter = this.options.nsenter ?? 'nsenter';
    return new NsenterShell(nsenter, [...CHILD_PATHS.values()], OUTPUT_MAX_BYTES);
  }

  /** Ends every reader shell; reads in flight fail. */
  close(): void {
    this.closed = true;
    for (const shell of [...this.idle.splice(0), ...this.busy]) shell.kill();
  }
}
