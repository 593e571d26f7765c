/**
 * Network-namespace lab for real-kernel tests and fixture captures: namespaces joined by
 * veth pairs, commands and long-lived children run inside them, lost peers, per-namespace
 * sysctls, and a teardown that runs whatever happens (also on process exit).
 * Needs root and iproute2. Traffic stays inside the namespaces this lab made.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

/** A MAC no interface owns: frames sent to it vanish, so the peer looks lost. */
export const UNUSED_MAC = '02:00:5e:00:53:01';

const COMMAND_TIMEOUT_MS = 15_000;

let labCounter = 0;

export interface NetnsCommandOptions {
  /** Text written to the command's stdin. */
  readonly input?: string;
  readonly timeoutMs?: number;
}

export class NetnsLab {
  /** Unique per process and per lab: `<prefix>-<pid>-<n>`. */
  readonly id: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private closed = false;
  private readonly onExit = (): void => this.teardownSync();

  constructor(prefix = 'tsk') {
    labCounter += 1;
    this.id = `${prefix}-${process.pid}-${labCounter}`;
    process.once('exit', this.onExit);
  }

  /** Creates `<id>-<role>` with lo up and returns its name. */
  addNamespace(role: string): string {
    this.assertOpen();
    const name = `${this.id}-${role}`;
    // A leftover from a crashed run with the same pid would make `add` fail.
    tryRun('ip', ['netns', 'del', name]);
    run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    this.ip(name, ['link', 'set', 'lo', 'up']);
    return name;
  }

  /**
   * Joins two namespaces with a veth pair. Each end is created directly inside its
   * namespace (so device names only need to be unique there), given its addresses
   * (CIDR form; IPv6 ones with `nodad` so they are usable at once) and brought up.
   */
  link(
    a: { readonly ns: string; readonly device: string; readonly addresses: readonly string[] },
    b: { readonly ns: string; readonly device: string; readonly addresses: readonly string[] },
  ): void {
    this.assertOpen();
    run('ip', [
      'link',
      'add',
      a.device,
      'netns',
      a.ns,
      'type',
      'veth',
      'peer',
      'name',
      b.device,
      'netns',
      b.ns,
    ]);
    for (const end of [a, b]) {
      for (const address of end.addresses) this.addAddress(end.ns, end.device, address);
      this.ip(end.ns, ['link', 'set', end.device, 'up']);
    }
  }

  addAddress(ns: string, device: string, cidr: string): void {
    const extra = cidr.includes(':') ? ['nodad'] : [];
    this.ip(ns, ['addr', 'add', cidr, 'dev', device, ...extra]);
  }

  /** Runs `ip -n ns ...`. */
  ip(ns: string, args: readonly string[]): string {
    return run('ip', ['-n', ns, ...args]);
  }

  /** Runs a command inside the namespace and returns its stdout; throws on failure. */
  exec(
    ns: string,
    command: string,
    args: readonly string[] = [],
    options: NetnsCommandOptions = {},
  ): string {
    return run('ip', ['netns', 'exec', ns, command, ...args], options);
  }

  /**
   * Starts a long-lived process inside the namespace. `ip netns exec` execs the command,
   * so the child's pid is the command's own and killing it needs no process group.
   */
  spawn(ns: string, command: string, args: readonly string[] = []): ChildProcess {
    this.assertOpen();
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Makes `address` unreachable from `ns`: a permanent neighbour entry to an unused MAC. */
  losePeer(ns: string, device: string, address: string): void {
    const family = address.includes(':') ? '-6' : '-4';
    this.ip(ns, [
      family,
      'neigh',
      'replace',
      address,
      'lladdr',
      UNUSED_MAC,
      'nud',
      'permanent',
      'dev',
      device,
    ]);
  }

  /** Sets a sysctl in the namespace's own view (`net.ipv4.ip_local_port_range`, ...). */
  setSysctl(ns: string, name: string, value: string): void {
    this.exec(ns, 'sysctl', ['-q', '-w', `${name}=${value}`]);
  }

  readSysctl(ns: string, name: string): string {
    return this.exec(ns, 'sysctl', ['-n', name]).trim();
  }

  /** Kills every child and deletes every namespace; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    const exits = [...this.children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    );
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5_000))]);
    this.teardownSync();
  }

  private teardownSync(): void {
    if (this.closed) return;
    this.closed = true;
    process.removeListener('exit', this.onExit);
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
    for (const ns of this.namespaces.splice(0)) tryRun('ip', ['netns', 'del', ns]);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`netns lab ${this.id} is closed`);
  }
}

function run(command: string, args: readonly string[], options: NetnsCommandOptions = {}): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      input: options.input ?? '',
      timeout: options.timeoutMs ?? COMMAND_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`${command} ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, {
      cause: error,
    });
  }
}

function tryRun(command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: COMMAND_TIMEOUT_MS });
  } catch {
    // Nothing to clean up.
  }
}
