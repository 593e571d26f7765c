/**
 * Real connect() and bind() failures in a lab namespace (testkit/programs/failing-calls.mjs):
 * the namespace's port range is narrowed to 2 ports and held, so each further connect() fails
 * with EADDRNOTAVAIL; binds to its listening port fail with EADDRINUSE. Returns what the
 * calls returned as the client saw them, while the client stays alive for attribution.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import type { NetnsLab } from './netns.js';

const PROGRAM = new URL('../programs/failing-calls.mjs', import.meta.url).pathname;
const RANGE = { low: 40_000, high: 40_001 };

export interface CallOutcomes {
  /** errno code (or `ok`) → calls that returned it. */
  readonly connect: Readonly<Record<string, number>>;
  readonly bind: Readonly<Record<string, number>>;
}

export interface FailingClient {
  readonly outcomes: CallOutcomes;
  /** The namespace's inode, as lsns shows it. */
  readonly nsInode: number;
  readonly child: ChildProcess;
  /** Lets the client exit. */
  end(): Promise<void>;
}

export async function runFailingCalls(
  lab: NetnsLab,
  ns: string,
  calls: { readonly connects: number; readonly binds: number },
  /** Called with the client's pid before it makes a call (e.g. to put it in a pod's cgroup). */
  place?: (pid: number) => void,
): Promise<FailingClient> {
  lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', `${RANGE.low} ${RANGE.high}`);
  const argv = [PROGRAM, JSON.stringify({ ...calls, rangePorts: RANGE.high - RANGE.low + 1 })];
  // With `place`, a shell holds the pid until one byte arrives on stdin, then execs the client.
  const child =
    place === undefined
      ? lab.spawn(ns, process.execPath, argv)
      : lab.spawn(ns, 'sh', [
          '-c',
          'head -c 1 >/dev/null; exec "$0" "$@"',
          process.execPath,
          ...argv,
        ]);
  if (place !== undefined) {
    place(child.pid as number);
    child.stdin?.write('x');
  }
  let output = '';
  child.stdout?.setEncoding('utf8');
  const line = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`failing-calls in ${ns} timed out`)), 15_000);
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('\n')) {
        clearTimeout(timer);
        resolve(output.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`failing-calls in ${ns} exited (${code}) before answering`));
    });
  });
  const outcomes = JSON.parse(await line) as CallOutcomes;
  return {
    outcomes,
    nsInode: statSync(`/run/netns/${ns}`).ino,
    child,
    async end() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin?.end();
      await exited;
    },
  };
}
