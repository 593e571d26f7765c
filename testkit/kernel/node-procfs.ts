/**
 * A node's procfs as the netns collector sees it: numbered process directories with comm,
 * cgroup, an `ns/net` link and a `net/` tree; processes of one namespace share one `net/`
 * (a symlink to the first one's), so their net/tcp has one inode as in the kernel.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ProcfsTreeSpec, writeProcfsTree } from './procfs-tree.js';

export interface FakeProcess {
  readonly pid: number;
  readonly comm: string;
  /** Namespace key: processes with the same key share a namespace. */
  readonly netns: string;
  /** `/proc/<pid>/cgroup` text; empty when left out. */
  readonly cgroup?: string;
  /** The `ns/net` link's inode; without it the link is absent (as without ptrace access). */
  readonly nsInode?: number;
}

/**
 * Writes the processes under `root`; `trees` gives each namespace key its sockets,
 * counters and sysctls (the namespace's first process gets the files).
 */
export function writeNodeProcfs(
  root: string,
  processes: readonly FakeProcess[],
  trees: Readonly<Record<string, ProcfsTreeSpec>> = {},
): void {
  const firstOf = new Map<string, number>();
  for (const process of processes) {
    const dir = join(root, String(process.pid));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'comm'), `${process.comm}\n`);
    writeFileSync(join(dir, 'cgroup'), process.cgroup ?? '0::/\n');
    if (process.nsInode !== undefined) {
      mkdirSync(join(dir, 'ns'), { recursive: true });
      symlinkSync(`net:[${process.nsInode}]`, join(dir, 'ns/net'));
    }
    const first = firstOf.get(process.netns);
    if (first === undefined) {
      firstOf.set(process.netns, process.pid);
      writeProcfsTree(dir, trees[process.netns] ?? {});
    } else {
      symlinkSync(join('..', String(first), 'net'), join(dir, 'net'));
    }
  }
}
