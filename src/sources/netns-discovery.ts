/**
 * Finds the network namespaces of a node through its procfs root, without privileges:
 * `<procfs>/<pid>/net/tcp` is a per-namespace file whose inode any user may stat, while
 * `readlink <procfs>/<pid>/ns/net` needs ptrace access to the process. Processes are grouped
 * by that inode; the node's own namespace (pid 1's) is left out. A process may exit at any
 * moment: it is then simply not listed, or its namespace fails when read (see netns-round).
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readOptionalText, SourceError } from './kernel-files.js';

export interface DiscoveredNamespace {
  /**
   * The namespace's inode (`ls -L -i /proc/<pid>/ns/net`, what lsns and `ip netns identify`
   * show) when the ns link is readable, else the inode of its net/tcp file: both come from
   * the kernel's one procfs inode allocator, so they never collide.
   */
  readonly inode: number;
  /** The process read for it: the lowest pid that is not a Kubernetes pause container. */
  readonly pid: number;
  /** comm of that process (`pause` only when the namespace holds nothing else). */
  readonly process: string;
}

export interface Discovery {
  /** Ascending by inode. */
  readonly namespaces: readonly DiscoveredNamespace[];
  /** Processes listed but gone (or unreadable) before their net/tcp could be looked at. */
  readonly vanished: number;
}

/** comm of the pause container that holds a Kubernetes pod's namespaces. */
const PAUSE_COMM = 'pause';

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** The inode of `<procfs>/<pid>/net/tcp`, or undefined when the process is gone. */
export function tableInode(procfsRoot: string, pid: number | 'self'): number | undefined {
  try {
    return statSync(join(procfsRoot, String(pid), 'net/tcp')).ino;
  } catch (error) {
    // ENOENT: exited (or a zombie, whose net is gone); ESRCH/EACCES: exiting or hidden.
    if (['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'ENOTDIR'].includes(errnoCode(error) ?? '')) {
      return undefined;
    }
    throw error;
  }
}

/** The process's comm, or undefined when it is gone. */
export function processName(procfsRoot: string, pid: number): string | undefined {
  try {
    return readOptionalText(join(procfsRoot, String(pid), 'comm'))?.trim();
  } catch (error) {
    if (error instanceof SourceError) return undefined;
    throw error;
  }
}

/** The link `net:[4026532177]` → 4026532177; undefined when unreadable (no ptrace access, gone). */
function linkInode(path: string): number | undefined {
  try {
    const match = /^net:\[(\d+)\]$/.exec(readlinkSync(path));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** The namespace inode of process `pid`; undefined without ptrace access or once it is gone. */
export function namespaceInode(procfsRoot: string, pid: number): number | undefined {
  return linkInode(join(procfsRoot, String(pid), 'ns/net'));
}

/**
 * The inode of the namespace whose tables `<procfs>/net/` shows: `<procfs>/ns/net` for a
 * `/proc/<pid>` root, else `<procfs>/self/ns/net` (`/proc/net` is `self/net`); undefined
 * when neither is readable (a fixture tree, a process gone or not ours to ptrace).
 */
export function rootNamespaceInode(procfsRoot: string): number | undefined {
  return linkInode(join(procfsRoot, 'ns/net')) ?? linkInode(join(procfsRoot, 'self/ns/net'));
}

function listPids(procfsRoot: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync(procfsRoot);
  } catch (error) {
    throw new SourceError(`cannot list ${procfsRoot}: ${errnoCode(error) ?? String(error)}`);
  }
  const pids: number[] = [];
  for (const entry of entries) if (/^[1-9]\d*$/.test(entry)) pids.push(Number(entry));
  return pids.sort((a, b) => a - b);
}

/**
 * Every network namespace with a process in `procfsRoot`, except the node's own (pid 1's)
 * and the one the exporter samples as the node (`<procfs>/self`'s, the same on a host
 * network; another when the exporter runs in a namespace of its own). Throws a SourceError only when the root itself cannot be listed or pid 1 cannot be read.
 */
export function discoverNamespaces(procfsRoot: string): Discovery {
  const nodeInode = tableInode(procfsRoot, 1);
  if (nodeInode === undefined) {
    throw new SourceError(`cannot read ${join(procfsRoot, '1/net/tcp')}: the node's namespace`);
  }
  const sampledInode = tableInode(procfsRoot, 'self');
  const groups = new Map<number, number[]>();
  let vanished = 0;
  for (const pid of listPids(procfsRoot)) {
    const inode = tableInode(procfsRoot, pid);
    if (inode === undefined) {
      vanished++;
      continue;
    }
    if (inode === nodeInode || inode === sampledInode) continue;
    const group = groups.get(inode);
    if (group === undefined) groups.set(inode, [pid]);
    else group.push(pid);
  }
  const namespaces: DiscoveredNamespace[] = [];
  for (const [tableInodeNumber, pids] of groups) {
    const chosen = representative(procfsRoot, pids);
    if (chosen === undefined) {
      vanished += pids.length;
      continue;
    }
    namespaces.push({
      inode: namespaceInode(procfsRoot, chosen.pid) ?? tableInodeNumber,
      pid: chosen.pid,
      process: chosen.process,
    });
  }
  return { namespaces: namespaces.sort((a, b) => a.inode - b.inode), vanished };
}

/**
 * The lowest pid that is not a pause container (its cgroup names the pod's sandbox, not an
 * application container), else the lowest live one; undefined when every one has exited.
 */
function representative(
  procfsRoot: string,
  pids: readonly number[],
): { pid: number; process: string } | undefined {
  let pause: { pid: number; process: string } | undefined;
  for (const pid of pids) {
    const process = processName(procfsRoot, pid);
    if (process === undefined) continue;
    if (process !== PAUSE_COMM) return { pid, process };
    pause ??= { pid, process };
  }
  return pause;
}
