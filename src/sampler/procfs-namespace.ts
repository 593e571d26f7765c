/**
 * The single-namespace mode, `--path.procfs=/proc/<pid>`: /proc/<pid> has that namespace's
 * net/ tables but no sys/, so its sysctls are read by entering the namespace (through the
 * cache, refreshed on its interval) and handed to each sample.
 */
import { statSync } from 'node:fs';
import { type NamespaceSysctls, procfsRootNamespace } from '../sources/netns-sysctl.js';
import {
  NamespaceSysctlCache,
  type NamespaceSysctlCacheOptions,
} from '../sources/netns-sysctl-cache.js';

/** Logged once when the namespace cannot be entered (its `reason` says why). */
export const ASSUMED_SYSCTLS_MESSAGE =
  "cannot read the namespace's sysctls; a new namespace's kernel defaults are assumed (tcpstate_sysctls_assumed 1)";

export class ProcfsRootNamespace {
  private constructor(
    private readonly nsFile: string,
    private readonly nsInode: number,
    private readonly cache: NamespaceSysctlCache,
  ) {}

  /** Undefined when the root has its own sys/ (a procfs mount such as /proc). */
  static of(
    procfsRoot: string,
    options: Pick<NamespaceSysctlCacheOptions, 'refreshMs' | 'onAssumed'>,
  ): ProcfsRootNamespace | undefined {
    const nsFile = procfsRootNamespace(procfsRoot);
    if (nsFile === undefined) return undefined;
    let nsInode = 0;
    try {
      nsInode = statSync(nsFile).ino;
    } catch {
      // Without ptrace access the link cannot be followed; one namespace needs no key.
    }
    return new ProcfsRootNamespace(nsFile, nsInode, new NamespaceSysctlCache(options));
  }

  /** Waits for the first read (bounded by its timeout), so the first sample has real values. */
  ready(): Promise<NamespaceSysctls> {
    return this.cache.fresh(this.nsInode, this.nsFile);
  }

  /** The latest values, or the defaults marked assumed; starts a refresh when one is due. */
  current(): NamespaceSysctls {
    return this.cache.get(this.nsInode, this.nsFile);
  }

  close(): void {
    this.cache.close();
  }
}
