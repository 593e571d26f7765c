/**
 * A process living in a lab namespace, for code that finds a namespace through
 * `/proc/<pid>/ns/net` as the exporter does; and running a program as an unprivileged user.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import type { NetnsLab } from './netns.js';

export interface NamespaceProcess {
  readonly pid: number;
  /** `/proc/<pid>/ns/net`. */
  readonly nsFile: string;
  /** The namespace's inode. */
  readonly nsInode: number;
  readonly child: ChildProcess;
}

/**
 * Starts `sleep` in the namespace (as `user` when given) and waits, bounded, until it is in
 * the namespace (`ip netns exec` enters it, then execs).
 */
export async function startNamespaceProcess(
  lab: NetnsLab,
  ns: string,
  user?: number,
): Promise<NamespaceProcess> {
  const [command, args] =
    user === undefined ? ['sleep', ['infinity']] : asUser(user, 'sleep', ['infinity']);
  const child = lab.spawn(ns, command, args);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start a process in ${ns}`);
  const nsFile = `/proc/${pid}/ns/net`;
  const nsInode = statSync(`/run/netns/${ns}`).ino;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const entered = statSync(nsFile, { throwIfNoEntry: false })?.ino === nsInode;
    if (entered) return { pid, nsFile, nsInode, child };
    if (Date.now() > deadline) throw new Error(`process ${pid} did not enter ${ns}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The uid and gid of `nobody`: no capabilities, no ptrace access to root's processes. */
export const NOBODY = 65534;

/** argv running `command` as `uid` (group the same), without capabilities or other groups. */
export function asUser(uid: number, command: string, args: readonly string[]): [string, string[]] {
  return ['setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', command, ...args]];
}

export interface ProgramRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end (bounded) and returns its status and output. */
export function runProgram(file: string, args: readonly string[]): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : error.code;
        if (typeof code !== 'number') reject(error ?? new Error(`${file}: no exit code`));
        else resolve({ code, stdout, stderr });
      },
    );
  });
}
