/**
 * Sockets spread over many network namespaces, as on a node running pods: each namespace
 * holds its share as ESTABLISHED connections on its own lo (both ends in the table, the
 * server side left unaccepted), a quarter of them over IPv6, held by socket-holder.pl
 * processes. The first holder of each namespace is its representative process: its
 * `/proc/<pid>/net/tcp` is that namespace's table, as the netns collector reads it.
 */
import { performance } from 'node:perf_hooks';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { Holder, hardFileLimit, inParallel } from '../lib/real-table.js';

const SERVER = { 4: '198.18.1.1', 6: 'fd00:1::1' } as const;
const PORT = 8080;
const IPV6_SHARE = 0.25;
/** Holders connecting at once: one per core on this kind of machine. */
const CONNECTING = 2;

type IpFamily = 4 | 6;

interface HoldTask {
  readonly family: IpFamily;
  readonly source: string;
  readonly count: number;
}

/** Connections per namespace and family: `size` sockets in all, two per connection. */
export function planSpread(namespaces: number, size: number): Readonly<Record<IpFamily, number>>[] {
  // Each namespace also holds its two listeners.
  const connections = Math.max(0, Math.floor((size - 2 * namespaces) / 2));
  return Array.from({ length: namespaces }, (_, index) => {
    const share = Math.floor(connections / namespaces) + (index < connections % namespaces ? 1 : 0);
    const ipv6 = Math.round(share * IPV6_SHARE);
    return { 4: share - ipv6, 6: ipv6 };
  });
}

export class SpreadTable {
  private readonly holders: Holder[] = [];
  /** One process per namespace, in namespace order. */
  readonly pids: number[] = [];

  private constructor(private readonly lab: NetnsLab) {}

  /** Builds `namespaces` namespaces holding `size` sockets in all. */
  static async build(
    namespaces: number,
    size: number,
    log: (message: string) => void,
  ): Promise<SpreadTable> {
    const table = new SpreadTable(new NetnsLab('tsn'));
    try {
      const started = performance.now();
      await table.setUp(planSpread(namespaces, size));
      log(
        `${namespaces} namespaces built in ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
      return table;
    } catch (error) {
      await table.close();
      throw error;
    }
  }

  private async setUp(plan: readonly Readonly<Record<IpFamily, number>>[]): Promise<void> {
    // A source address gives more ports than one holder holds connections.
    const perHolder = hardFileLimit() - 64;
    const tasks: (() => Promise<number>)[] = [];
    for (const [index, connections] of plan.entries()) {
      const ns = this.lab.addNamespace(`n${index}`);
      const backlog = Math.max(connections[4], connections[6], 128);
      if (backlog > 4096) this.lab.setSysctl(ns, 'net.core.somaxconn', String(backlog));
      const holds: HoldTask[] = [];
      for (const family of [4, 6] as const) {
        for (let left = connections[family]; left > 0; left -= perHolder) {
          const n = holds.length + 1;
          const source = family === 4 ? `198.18.2.${n}` : `fd00:2::${n.toString(16)}`;
          holds.push({ family, source, count: Math.min(left, perHolder) });
        }
      }
      const addresses = [`${SERVER[4]}/32`, `${SERVER[6]}/128`, ...holds.map(cidrOf)];
      this.lab.exec(ns, 'ip', ['-batch', '-'], {
        input: addresses
          .map((cidr) => `addr add ${cidr} dev lo${cidr.includes(':') ? ' nodad' : ''}\n`)
          .join(''),
      });
      // One namespace at a time: a hundred holders starting at once on a loaded two-core
      // machine left some unanswered for over a minute.
      const listener = this.startHolder(ns);
      this.pids.push(listener.pid);
      for (const family of [4, 6] as const) {
        await listener.request(`listen ${family} ${SERVER[family]} ${PORT} ${backlog}`, 60_000);
      }
      for (const [position, hold] of holds.entries()) {
        // The listener's own process holds the first batch: fewer processes at 100 namespaces.
        const holder = position === 0 ? listener : this.startHolder(ns);
        tasks.push(() =>
          holder.request(
            `hold ${hold.family} ${hold.source} ${SERVER[hold.family]} ${PORT} ${hold.count}`,
            300_000,
          ),
        );
      }
    }
    await inParallel(CONNECTING, tasks);
  }

  private startHolder(ns: string): Holder {
    const holder = Holder.start(this.lab, ns);
    this.holders.push(holder);
    return holder;
  }

  /** Resets every held socket, stops the holders, deletes the namespaces. */
  async close(): Promise<void> {
    await Promise.all(this.holders.map((holder) => holder.stop(30_000)));
    await this.lab.close();
  }
}

function cidrOf(hold: HoldTask): string {
  return `${hold.source}/${hold.family === 4 ? 32 : 128}`;
}
