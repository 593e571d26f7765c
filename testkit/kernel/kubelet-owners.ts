/**
 * Processes placed as a container runtime places them, for owner tests: cgroup directories
 * laid out as the kubelet lays them out (systemd and cgroupfs drivers) or as Docker does,
 * and a `/var/log/pods` + `/var/log/containers` style tree. Needs root; `close()` moves
 * nothing back (the processes are expected to be gone) and removes what it created.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CGROUP_FS = '/sys/fs/cgroup';

/** The cgroup v2 mount: the root on a v2-only host, `unified/` on a hybrid one. */
export function cgroupV2Root(): string {
  if (existsSync(join(CGROUP_FS, 'cgroup.controllers'))) return CGROUP_FS;
  const unified = join(CGROUP_FS, 'unified');
  if (existsSync(join(unified, 'cgroup.controllers'))) return unified;
  throw new Error('no cgroup v2 hierarchy under /sys/fs/cgroup');
}

export interface PodSpec {
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
}

export interface ContainerSpec {
  readonly name: string;
  /** 64 hex digits. */
  readonly id: string;
}

export function newPod(namespace: string, pod: string): PodSpec {
  return { namespace, pod, uid: randomUUID() };
}

export function newContainer(name: string): ContainerSpec {
  return { name, id: randomBytes(32).toString('hex') };
}

/** The cgroup path the kubelet's systemd driver gives a container (cgroup v2 hosts). */
export function systemdPodPath(pod: PodSpec, container: ContainerSpec): string {
  const uid = pod.uid.replaceAll('-', '_');
  return `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid}.slice/cri-containerd-${container.id}.scope`;
}

/** The cgroup path the kubelet's cgroupfs driver gives a container. */
export function cgroupfsPodPath(pod: PodSpec, container: ContainerSpec): string {
  return `/kubepods/burstable/pod${pod.uid}/${container.id}`;
}

/** Plain Docker (compose) with the cgroupfs driver. */
export function dockerPath(container: ContainerSpec): string {
  return `/docker/${container.id}`;
}

export class OwnerLab {
  /** `--path.pod-logs` for the exporter: holds `pods/` and `containers/`. */
  readonly podLogsDir = mkdtempSync(join(tmpdir(), 'tcpstate-pod-logs-'));
  private readonly created: string[] = [];
  /** Directories processes were moved into: they empty a moment after the processes die. */
  private readonly leaves = new Set<string>();

  /** The cgroup v1 hierarchy of v1Root(), once mounted. */
  private v1: string | undefined;

  /**
   * A cgroup v1 hierarchy (cgroupfs driver on a v1 host) to place processes in: a named one
   * with no controller, mounted here, so a v2-only host runs the v1 case as v1 too. Its
   * line in /proc/<pid>/cgroup (`N:name=...:/kubepods/...`) is read as a v1 host's are.
   */
  v1Root(): string {
    if (this.v1 !== undefined) return this.v1;
    const mountPoint = mkdtempSync(join(tmpdir(), 'tcpstate-cgroup-v1-'));
    execFileSync('mount', [
      '-t',
      'cgroup',
      '-o',
      `none,name=tcpstate-${process.pid}`,
      'cgroup',
      mountPoint,
    ]);
    this.v1 = mountPoint;
    return mountPoint;
  }

  /** Moves `pid` into `path` of the hierarchy mounted at `root`, creating the directories. */
  place(pid: number, root: string, path: string): void {
    let directory = root;
    for (const part of path.split('/').filter(Boolean)) {
      directory = join(directory, part);
      if (!existsSync(directory)) {
        mkdirSync(directory);
        this.created.push(directory);
      }
    }
    writeFileSync(join(directory, 'cgroup.procs'), String(pid));
    this.leaves.add(directory);
  }

  /** The pod's `pods/<namespace>_<pod>_<uid>/<container>/0.log` and `containers/...log` entries. */
  writePodLogs(pod: PodSpec, containers: readonly ContainerSpec[]): void {
    const podDir = join(this.podLogsDir, 'pods', `${pod.namespace}_${pod.pod}_${pod.uid}`);
    mkdirSync(join(this.podLogsDir, 'containers'), { recursive: true });
    for (const container of containers) {
      mkdirSync(join(podDir, container.name), { recursive: true });
      const log = join(podDir, container.name, '0.log');
      writeFileSync(log, '');
      writeFileSync(
        join(
          this.podLogsDir,
          'containers',
          `${pod.pod}_${pod.namespace}_${container.name}-${container.id}.log`,
        ),
        '',
      );
    }
  }

  /**
   * Removes the cgroup directories it made, deepest first, once their processes are gone
   * (a killed process leaves its cgroup a moment later); shared parents another test still
   * uses stay. Then the log tree.
   */
  async close(): Promise<void> {
    const deadline = Date.now() + 5_000;
    for (const directory of this.created.splice(0).reverse()) {
      for (;;) {
        try {
          rmdirSync(directory);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          // A parent another test still uses stays busy: leave it.
          if (code !== 'EBUSY' || !this.leaves.has(directory) || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
    if (this.v1 !== undefined) {
      // The hierarchy lives on until its last cgroup is gone; the mount point goes now.
      execFileSync('umount', [this.v1]);
      rmdirSync(this.v1);
      this.v1 = undefined;
    }
    rmSync(this.podLogsDir, { recursive: true, force: true });
  }
}
