/**
 * A real kernel table of a chosen size in a network namespace of its own: ESTABLISHED
 * connections over IPv4 and IPv6 held by socket-holder.pl processes (as many as the fd
 * limit needs), and TIME_WAIT sockets made in bursts. TIME_WAIT lasts a fixed 60 s, so
 * a burst is measured within its minute and the next one waits for it to drain.
 * Everything runs on lo inside the namespace, from 198.18.0.0/15 and fd00::/8.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NetnsLab } from '../../testkit/kernel/netns.js';

const HOLDER_SCRIPT = fileURLToPath(new URL('./socket-holder.pl', import.meta.url));
const TIME_WAIT_SHARE = 0.25;
const IPV6_SHARE = 0.25;
/** Ports a source address gives (socket-holder.pl binds 1024..54999). */
const PORTS_PER_SOURCE = 53_976;
const BACKLOG = 4_194_304;
/** The kernel ends TIME_WAIT after this long (TCP_TIMEWAIT_LEN). */
export const TIME_WAIT_SECONDS = 60;
const SERVER = { 4: '198.18.1.1', 6: 'fd00:1::1' } as const;
const HOLD_PORT = 8080;
const GENERATOR_PORT = 8081;
/** Waiting for a previous burst to drain: at most this long, down to this many extra. */
const DRAIN_TIMEOUT_MS = 20_000;
const DRAIN_SLACK = 64;
/** TIME_WAIT generators run side by side (one per core on this kind of machine). */
const GENERATORS = 2;

type IpFamily = 4 | 6;

export interface TablePlan {
  readonly connections: Readonly<Record<IpFamily, number>>;
  readonly timeWait: Readonly<Record<IpFamily, number>>;
}

/** Sockets of a table of `size`: a quarter TIME_WAIT, the rest both ends of ESTABLISHED connections. */
export function planTable(size: number): TablePlan {
  const timeWait = Math.round(size * TIME_WAIT_SHARE);
  const connections = Math.floor((size - timeWait) / 2);
  const split = (total: number) => {
    const ipv6 = Math.round(total * IPV6_SHARE);
    return { 4: total - ipv6, 6: ipv6 };
  };
  return { connections: split(connections), timeWait: split(timeWait) };
}

/** The hard limit on open files: what one holder process may raise its own limit to. */
export function hardFileLimit(): number {
  return Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
}

/** One socket-holder.pl process inside a namespace, driven line by line. */
export class Holder {
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr?.on('data', () => undefined);
    this.exited.then(() => {
      for (const answer of this.waiting.splice(0)) answer('error holder exited');
    });
  }

  static start(lab: NetnsLab, ns: string): Holder {
    // The soft fd limit starts low; raise it to the hard one for this process only.
    return new Holder(
      lab.spawn(ns, 'sh', ['-c', `ulimit -n "$(ulimit -Hn)" && exec perl ${HOLDER_SCRIPT}`]),
    );
  }

  /** The holder's own pid: a process inside its namespace, for `/proc/<pid>/net/…`. */
  get pid(): number {
    return this.child.pid as number;
  }

  /** Sends one command and returns the number in its `ok` answer. */
  async request(command: string, timeoutMs: number): Promise<number> {
    const answer = new Promise<string>((resolve) => this.waiting.push(resolve));
    this.child.stdin?.write(`${command}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`error no answer within ${timeoutMs} ms`), timeoutMs);
    });
    const line = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    const match = /^ok (\d+)$/.exec(line);
    if (match === null) throw new Error(`socket holder: "${command}" → ${line}`);
    return Number(match[1]);
  }

  /** Ends its input: it resets its sockets and exits. */
  async stop(timeoutMs: number): Promise<void> {
    this.child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exited,
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.lines.close();
  }
}

/** Runs `tasks` with at most `limit` at a time. */
export async function inParallel<T>(
  limit: number,
  tasks: readonly (() => Promise<T>)[],
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export interface TimeWaitBurst {
  /** performance-clock ms when the first of them was made / the last. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly made: number;
}

export class RealTable {
  private readonly holders: Holder[] = [];
  private readonly generators: Holder[] = [];
  private sourceCount = 0;
  private lastBurst: TimeWaitBurst | undefined;

  private constructor(
    private readonly lab: NetnsLab,
    readonly ns: string,
    readonly plan: TablePlan,
  ) {}

  /** Builds the namespace and its ESTABLISHED part; TIME_WAIT comes with burst(). */
  static async build(size: number, log: (message: string) => void): Promise<RealTable> {
    const lab = new NetnsLab('tsb');
    const table = new RealTable(lab, lab.addNamespace('table'), planTable(size));
    try {
      await table.setUp(log);
      return table;
    } catch (error) {
      await table.close();
      throw error;
    }
  }

  /** Runs a command inside the namespace and returns its output. */
  exec(command: string, args: readonly string[], timeoutMs = 60_000): string {
    return this.lab.exec(this.ns, command, args, { timeoutMs });
  }

  /** Starts a long-lived process inside the namespace (killed by close()). */
  spawn(command: string, args: readonly string[]): ChildProcess {
    return this.lab.spawn(this.ns, command, args);
  }

  private async setUp(log: (message: string) => void): Promise<void> {
    // Clients bind their ports explicitly, so ip_local_port_range keeps its default and
    // the engine classifies ephemeral ports as on a host with default settings.
    for (const [name, value] of [
      ['net.core.somaxconn', String(BACKLOG)],
      ['net.ipv4.tcp_max_tw_buckets', String(BACKLOG)],
    ] as const) {
      this.lab.setSysctl(this.ns, name, value);
    }
    this.addAddresses([`${SERVER[4]}/32`, `${SERVER[6]}/128`]);

    const listener = Holder.start(this.lab, this.ns);
    this.holders.push(listener);
    for (const family of [4, 6] as const) {
      await listener.request(`listen ${family} ${SERVER[family]} ${HOLD_PORT} ${BACKLOG}`, 10_000);
    }
    for (let index = 0; index < GENERATORS; index++) {
      const generator = Holder.start(this.lab, this.ns);
      this.generators.push(generator);
      for (const family of [4, 6] as const) {
        await generator.request(
          `listen ${family} ${SERVER[family]} ${GENERATOR_PORT + index} 4096`,
          10_000,
        );
      }
    }

    // A few descriptors stay for the holder's own stdio and script.
    const perHolder = Math.min(PORTS_PER_SOURCE, hardFileLimit() - 64);
    const tasks: (() => Promise<number>)[] = [];
    for (const family of [4, 6] as const) {
      for (let left = this.plan.connections[family]; left > 0; left -= perHolder) {
        const count = Math.min(left, perHolder);
        const [source] = this.newSources(family, 1);
        const holder = Holder.start(this.lab, this.ns);
        this.holders.push(holder);
        tasks.push(() =>
          holder.request(
            `hold ${family} ${source} ${SERVER[family]} ${HOLD_PORT} ${count}`,
            300_000,
          ),
        );
      }
    }
    log(
      `holding ${this.plan.connections[4]} + ${this.plan.connections[6]} (IPv6) connections in ${tasks.length} processes`,
    );
    await inParallel(GENERATORS, tasks);
  }

  /** Fresh source addresses on lo, never used before, so no 4-tuple repeats. */
  private newSources(family: IpFamily, count: number): string[] {
    const sources: string[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.sourceCount++;
      sources.push(
        family === 4
          ? `198.18.${2 + Math.floor(n / 250)}.${1 + (n % 250)}`
          : `fd00:2::${(n + 1).toString(16)}`,
      );
    }
    this.addAddresses(sources.map((source) => `${source}/${family === 4 ? 32 : 128}`));
    return sources;
  }

  private addAddresses(cidrs: readonly string[]): void {
    const commands = cidrs.map(
      (cidr) => `addr add ${cidr} dev lo${cidr.includes(':') ? ' nodad' : ''}`,
    );
    this.lab.exec(this.ns, 'ip', ['-batch', '-'], {
      input: `${commands.join('\n')}\n`,
      timeoutMs: 60_000,
    });
  }

  /**
   * Makes the plan's TIME_WAIT sockets, split over the generators; gives up making more
   * after `maxSeconds`. A new burst starts as the previous one starts to expire and
   * returns once all of the previous one has, so the table holds one burst at a time.
   */
  async burst(maxSeconds: number): Promise<TimeWaitBurst> {
    const previous = this.lastBurst;
    if (previous !== undefined) await sleepUntil(previous.startedAt + TIME_WAIT_SECONDS * 1000);
    const startedAt = performance.now();
    const made = await Promise.all(
      this.generators.map(async (generator, index) => {
        let total = 0;
        for (const family of [4, 6] as const) {
          const count = Math.ceil(this.plan.timeWait[family] / this.generators.length);
          if (count === 0) continue;
          const sources = this.newSources(family, Math.ceil(count / PORTS_PER_SOURCE));
          const left = Math.max(1, Math.ceil(maxSeconds - (performance.now() - startedAt) / 1000));
          total += await generator.request(
            `timewait ${family} ${sources.join(',')} ${SERVER[family]} ${GENERATOR_PORT + index} ${count} ${left}`,
            (left + 30) * 1000,
          );
        }
        return total;
      }),
    );
    this.lastBurst = {
      startedAt,
      endedAt: performance.now(),
      made: made.reduce((sum, count) => sum + count, 0),
    };
    if (previous !== undefined) {
      await sleepUntil(previous.endedAt + TIME_WAIT_SECONDS * 1000);
      // The kernel's timer wheel ends a 60 s TIME_WAIT up to a few seconds late.
      const until = performance.now() + DRAIN_TIMEOUT_MS;
      while (
        this.timeWaitCount() > this.lastBurst.made + DRAIN_SLACK &&
        performance.now() < until
      ) {
        await sleepUntil(performance.now() + 250);
      }
    }
    return this.lastBurst;
  }

  /**
   * Body of an HTTP GET from inside the namespace, once it matches `pattern` (polled
   * every 100 ms until `timeoutMs`): a server there is up and ready.
   */
  fetchText(url: string, pattern = '', timeoutMs = 15_000): string {
    const script = `const until = Date.now() + ${timeoutMs};
      const pattern = new RegExp(${JSON.stringify(pattern)}, 'm');
      for (;;) {
        try {
          const body = await (await fetch(${JSON.stringify(url)})).text();
          if (pattern.test(body)) { process.stdout.write(body); break; }
        } catch (error) {
          if (Date.now() > until) throw error;
        }
        if (Date.now() > until) throw new Error('no answer matching ' + pattern);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }`;
    return this.exec(process.execPath, ['--input-type=module', '-e', script], timeoutMs + 15_000);
  }

  /** TIME_WAIT sockets the kernel counts in this namespace now (net/sockstat `tw`). */
  timeWaitCount(): number {
    const sockstat = this.exec('cat', ['/proc/net/sockstat']);
    const match = /^TCP: .*\btw (\d+)/m.exec(sockstat);
    return match === null ? Number.NaN : Number(match[1]);
  }

  /** Resets every held socket, stops the holders, deletes the namespace. */
  async close(): Promise<void> {
    await Promise.all([...this.holders, ...this.generators].map((holder) => holder.stop(30_000)));
    await this.lab.close();
  }
}

function sleepUntil(performanceMs: number): Promise<void> {
  const wait = performanceMs - performance.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}

/**
 * TCP sockets on the whole machine, every namespace (slab objects in use), or undefined
 * when /proc/slabinfo is not readable. /proc/net/tcp walks all of them to find its own.
 */
export function machineSocketCount(): number | undefined {
  try {
    let total = 0;
    for (const line of readFileSync('/proc/slabinfo', 'utf8').split('\n')) {
      const [name, active] = line.split(/\s+/);
      // Request socks are left out: each unaccepted connection holds one besides its socket.
      if (name !== undefined && /^(TCP|TCPv6|tw_sock_TCP|tw_sock_TCPv6)$/.test(name)) {
        total += Number(active);
      }
    }
    return total;
  } catch {
    return undefined;
  }
}
