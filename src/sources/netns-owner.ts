/**
 * Who owns a network namespace: the pod UID and container ID in its representative
 * process's cgroup path, joined with the kubelet's log directories (read-only hostPath, no
 * API server): `<pod-logs>/pods/<namespace>_<pod>_<uid>/` and
 * `<pod-logs>/containers/<pod>_<namespace>_<container>-<id>.log`. Pod names, namespaces and
 * container names are DNS labels, so `_` never occurs inside them.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readOptionalText, SourceError } from './kernel-files.js';

export interface CgroupIdentity {
  /** Lower case with dashes, as in the pod's metadata.uid. */
  readonly podUid?: string;
  /** 64 hex digits. */
  readonly containerId?: string;
}

export interface NamespaceOwner {
  /** Empty when unknown. */
  readonly pod: string;
  readonly namespace: string;
  /** The Kubernetes container name, else the 12-hex short container ID, else empty. */
  readonly container: string;
  /** The full container ID, else empty. */
  readonly containerId: string;
}

/** A namespace whose owner could not be named (no cgroup match, or it is gone). */
export const UNKNOWN_OWNER: NamespaceOwner = {
  pod: '',
  namespace: '',
  container: '',
  containerId: '',
};

/**
 * `pod<uid>` with dashes (cgroupfs driver: `/kubepods/burstable/pod<uid>/<id>`) or with
 * underscores (systemd driver: `kubepods-burstable-pod<uid_with_underscores>.slice`).
 */
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

/**
 * A container's own cgroup, the path's last component: `cri-containerd-<id>.scope`,
 * `crio-<id>.scope`, `docker-<id>.scope`, `libpod-<id>.scope` (systemd driver) or the bare
 * `<id>` (cgroupfs driver: `/kubepods/.../<id>`, `/docker/<id>`).
 */
const CONTAINER_ID = /^(?:[a-z][a-z-]*-)?([0-9a-f]{64})(?:\.scope)?$/;

/**
 * The pod UID and container ID in a `/proc/<pid>/cgroup` text: the cgroup v2 line
 * (`0::/path`) first, then the v1 controllers' lines in order.
 */
export function parseCgroupIdentity(text: string): CgroupIdentity {
  const paths = text
    .split('\n')
    .map((line) => {
      const [hierarchy, , ...path] = line.split(':');
      return { unified: hierarchy === '0', path: path.join(':') };
    })
    .filter((line) => line.path.startsWith('/'))
    .sort((a, b) => Number(b.unified) - Number(a.unified));
  let podUid: string | undefined;
  let containerId: string | undefined;
  for (const { path } of paths) {
    podUid ??= POD_UID.exec(path)?.[1]?.replaceAll('_', '-');
    const last = path.slice(path.lastIndexOf('/') + 1);
    containerId ??= CONTAINER_ID.exec(last)?.[1];
    if (podUid !== undefined && containerId !== undefined) break;
  }
  return {
    ...(podUid === undefined ? {} : { podUid }),
    ...(containerId === undefined ? {} : { containerId }),
  };
}

interface PodName {
  readonly namespace: string;
  readonly pod: string;
}

/** `<namespace>_<pod>_<uid>` directory names by uid. */
export function parsePodDirectories(names: readonly string[]): Map<string, PodName> {
  const pods = new Map<string, PodName>();
  for (const name of names) {
    const [namespace, pod, uid, extra] = name.split('_');
    if (namespace && pod && uid && extra === undefined) pods.set(uid, { namespace, pod });
  }
  return pods;
}

/** `<pod>_<namespace>_<container>-<id>.log` file names: the container name by container ID. */
export function parseContainerLogNames(names: readonly string[]): Map<string, string> {
  const containers = new Map<string, string>();
  for (const name of names) {
    const match = /^[^_]+_[^_]+_([^_]+)-([0-9a-f]{64})\.log$/.exec(name);
    if (match?.[1] !== undefined && match[2] !== undefined) containers.set(match[2], match[1]);
  }
  return containers;
}

function listDirectory(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    // Not on Kubernetes, or not mounted: owners fall back to the container ID.
    return [];
  }
}

/** The owner named by a cgroup identity, given the log directories' listings. */
export function ownerOf(
  identity: CgroupIdentity,
  pods: ReadonlyMap<string, PodName>,
  containers: ReadonlyMap<string, string>,
): NamespaceOwner {
  const pod = identity.podUid === undefined ? undefined : pods.get(identity.podUid);
  const containerId = identity.containerId ?? '';
  const container =
    (identity.containerId && containers.get(identity.containerId)) ?? containerId.slice(0, 12);
  return { pod: pod?.pod ?? '', namespace: pod?.namespace ?? '', container, containerId };
}

/**
 * Owners by namespace inode, cached: a namespace keeps its owner for life. The log
 * directories are listed at most once per round, and only when a namespace is new.
 */
export class OwnerResolver {
  private readonly owners = new Map<number, NamespaceOwner>();
  private listings: { pods: Map<string, PodName>; containers: Map<string, string> } | undefined;

  constructor(
    private readonly procfsRoot: string,
    /** `--path.pod-logs`: holds `pods/` and `containers/`. */
    private readonly podLogsDir: string,
  ) {}

  /** Forget the listings (a new round may see new pods) and namespaces no longer present. */
  beginRound(presentInodes: Iterable<number>): void {
    this.listings = undefined;
    const present = new Set(presentInodes);
    for (const inode of this.owners.keys()) if (!present.has(inode)) this.owners.delete(inode);
  }

  /** The owner of namespace `inode` through process `pid`; undefined when the process is gone. */
  resolve(inode: number, pid: number): NamespaceOwner | undefined {
    const cached = this.owners.get(inode);
    if (cached !== undefined) return cached;
    let text: string | undefined;
    try {
      text = readOptionalText(join(this.procfsRoot, String(pid), 'cgroup'));
    } catch (error) {
      if (error instanceof SourceError) return undefined;
      throw error;
    }
    if (text === undefined) return undefined;
    const identity = parseCgroupIdentity(text);
    this.listings ??= {
      pods: parsePodDirectories(listDirectory(join(this.podLogsDir, 'pods'))),
      containers: parseContainerLogNames(listDirectory(join(this.podLogsDir, 'containers'))),
    };
    const owner = ownerOf(identity, this.listings.pods, this.listings.containers);
    // A pod or container whose log entry is not there yet is looked up again next round.
    const complete =
      identity.podUid === undefined ||
      (owner.pod !== '' &&
        (identity.containerId === undefined || this.listings.containers.has(identity.containerId)));
    if (complete) this.owners.set(inode, owner);
    return owner;
  }
}
