/**
 * Which network namespace (and so which pod) a thread is in, asked the moment its event is
 * read: the namespace inode as lsns shows it (`<procfs>/<tid>/ns/net`; the inode of its
 * net/tcp without ptrace access, as netns discovery does), and the owner named from its
 * cgroup. A thread that exited since its event can no longer be attributed.
 */

import { namespaceInode, tableInode } from './netns-discovery.js';
import { type NamespaceOwner, OwnerResolver, UNKNOWN_OWNER } from './netns-owner.js';

export interface Attribution {
  readonly inode: number;
  readonly owner: NamespaceOwner;
}

export class NamespaceAttributor {
  private readonly owners: OwnerResolver;
  private readonly seen = new Set<number>();

  constructor(
    private readonly procfsRoot: string,
    podLogsDir: string,
  ) {
    this.owners = new OwnerResolver(procfsRoot, podLogsDir);
  }

  /** The namespace of thread `tid`, or undefined when it is gone. */
  attribute(tid: number): Attribution | undefined {
    const inode = namespaceInode(this.procfsRoot, tid) ?? tableInode(this.procfsRoot, tid);
    if (inode === undefined) return undefined;
    if (!this.seen.has(inode)) {
      // A namespace not seen before may be a new pod: list the kubelet's log directories anew.
      this.seen.add(inode);
      this.owners.beginRound(this.seen);
    }
    return { inode, owner: this.owners.resolve(inode, tid) ?? UNKNOWN_OWNER };
  }
}
