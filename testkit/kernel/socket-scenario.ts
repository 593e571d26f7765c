/**
 * Real TCP sockets in known states, built in network namespaces the test made
 * (addresses in 198.18.0.0/15 and fd00::/8 only). A socket agent (scenario-agent.mjs) in each namespace holds the sockets;
 * lost peers come from permanent neighbour entries to an unused MAC. Each scenario waits
 * until `ss` in its main namespace shows exactly the (family, state) counts it promises.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  emptyStateCounts,
  FAMILIES,
  type Family,
  type StateCounts,
  TCP_STATES,
  type TcpState,
} from '../../src/snapshot/model.js';
import { NetnsLab } from './netns.js';
import { familyStateCounts, parseSs, type SsSocket, ssInNamespace } from './ss-oracle.js';

const AGENT_SCRIPT = fileURLToPath(new URL('../programs/scenario-agent.mjs', import.meta.url));
const AGENT_TIMEOUT_MS = 20_000;
const SETTLE_TIMEOUT_MS = 15_000;

export interface ScenarioHandle {
  readonly name: string;
  /** What the scenario holds, for fixture READMEs. */
  readonly description: string;
  /** The namespace the scenario is about (the one fixtures are captured from). */
  readonly mainNs: string;
  /** Every namespace of the scenario, main first. */
  readonly netnsNames: readonly string[];
  /** (family, state) counts `ss` showed in mainNs once the scenario settled. */
  readonly expectedMain: Readonly<Record<Family, StateCounts>>;
  readonly lab: NetnsLab;
  close(): Promise<void>;
}

export interface ScenarioOptions {
  /** Namespace name prefix; names are `<prefix>-<pid>-<n>-<role>`. */
  readonly prefix?: string;
}

type ListenCommand = {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly ipv6Only?: boolean;
  /** listen()'s backlog: 511 when absent. */
  readonly backlog?: number;
  readonly onAccept: 'hold' | 'closeFirst' | 'passive';
};

type ConnectCommand = {
  readonly group: string;
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly count: number;
  readonly then: 'hold' | 'close' | 'passive' | 'pending';
};

type EndCommand = { readonly group: string; readonly remoteAddress?: string };

type ExhaustCommand = {
  readonly group: string;
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly max: number;
};

type Reply = Readonly<Record<string, unknown>>;

/** Talks to one scenario-agent.mjs inside a namespace, one JSON line per command. */
export class SocketAgent {
  private readonly child: ChildProcess;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();
  private nextId = 1;
  private stderr = '';

  constructor(lab: NetnsLab, ns: string) {
    this.child = lab.spawn(ns, process.execPath, [AGENT_SCRIPT]);
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4_000);
    });
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout }).on('line', (line) => this.onReply(line));
    }
    this.child.once('exit', (code, signal) => {
      const error = new Error(
        `socket agent in ${ns} exited (${code ?? signal}) ${this.stderr.trim()}`.trim(),
      );
      for (const request of this.pending.values()) {
        clearTimeout(request.timer);
        request.reject(error);
      }
      this.pending.clear();
    });
  }

  /** The agent's own pid (`ip netns exec` execs it), to place it in a cgroup. */
  get pid(): number {
    const { pid } = this.child;
    if (pid === undefined) throw new Error('socket agent did not start');
    return pid;
  }

  async listen(command: ListenCommand): Promise<void> {
    await this.request('listen', command);
  }

  async connect(command: ConnectCommand): Promise<void> {
    await this.request('connect', command);
  }

  /** Half-closes (FIN, socket kept) a group; accepted sockets are grouped by listener name. */
  async end(command: EndCommand): Promise<void> {
    await this.request('end', command);
  }

  /** Held connect()s until one fails: how many succeeded and the failure's code. */
  async exhaust(command: ExhaustCommand): Promise<{ count: number; error: string }> {
    const reply = await this.request('exhaust', command);
    return { count: reply.count as number, error: String(reply.error) };
  }

  /** Closes every socket of a group. */
  async drop(group: string): Promise<void> {
    await this.request('drop', { group });
  }

  /** Aborts every socket of a group with a RST: gone at once, no TIME_WAIT. */
  async reset(group: string): Promise<void> {
    await this.request('reset', { group });
  }

  private request(op: string, body: object): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`socket agent: ${op} ${JSON.stringify(body)} timed out`));
      }, AGENT_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin?.write(`${JSON.stringify({ id, op, ...body })}\n`);
    });
  }

  private onReply(line: string): void {
    let reply: { id?: number; ok?: boolean; error?: string } & Reply;
    try {
      reply = JSON.parse(line) as typeof reply;
    } catch {
      return;
    }
    const request = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (!request || reply.id === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(request.timer);
    if (reply.ok) request.resolve(reply);
    else request.reject(new Error(`socket agent: ${reply.error ?? 'failed'}`));
  }
}

/** Polls `ss -tanH` in the namespace until `unmet` returns nothing; throws after the timeout. */
export async function waitForSs(
  lab: NetnsLab,
  ns: string,
  unmet: (sockets: SsSocket[]) => readonly string[],
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<SsSocket[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = ssInNamespace(lab, ns);
    const sockets = parseSs(text);
    const problems = unmet(sockets);
    if (problems.length === 0) return sockets;
    if (Date.now() > deadline) {
      // sockstat counts per namespace without walking the shared hash: it tells a socket
      // that is gone from one that a concurrent walk missed.
      const sockstat = lab.exec(ns, 'cat', ['/proc/net/sockstat']);
      throw new Error(`ss in ${ns} never settled: ${problems.join('; ')}\n${sockstat}\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Differences between `ss` (family, state) counts and the expected ones, as text. */
export function stateCountDifferences(
  sockets: readonly SsSocket[],
  expected: Readonly<Record<Family, StateCounts>>,
): string[] {
  const actual = familyStateCounts(sockets);
  const problems: string[] = [];
  for (const family of FAMILIES) {
    for (const state of TCP_STATES) {
      if (actual[family][state] !== expected[family][state]) {
        problems.push(`${family} ${state}: ${actual[family][state]} != ${expected[family][state]}`);
      }
    }
  }
  return problems;
}

/** Tallies what a scenario promises in its main namespace. */
class Expectation {
  readonly counts: Record<Family, StateCounts> = {
    ipv4: emptyStateCounts(),
    ipv6: emptyStateCounts(),
  };

  add(family: Family, state: TcpState, count: number): void {
    this.counts[family][state] += count;
  }
}

/**
 * veth on several CPUs can reorder a peer's delayed ACK after its FIN; the TIME_WAIT side
 * answers the stale segment, the peer (already closed) sends RST, and without RFC 1337
 * protection that RST kills the TIME_WAIT socket (seen: 1-8 of 600 lost per run).
 */
export function protectTimeWait(lab: NetnsLab, ns: string): void {
  lab.setSysctl(ns, 'net.ipv4.tcp_rfc1337', '1');
}

/** Builds with a fresh lab; on any failure the lab is torn down before rethrowing. */
async function withLab(
  options: ScenarioOptions,
  build: (lab: NetnsLab) => Promise<Omit<ScenarioHandle, 'lab' | 'close'>>,
): Promise<ScenarioHandle> {
  const lab = new NetnsLab(options.prefix ?? 'tsk');
  try {
    const handle = await build(lab);
    return { ...handle, lab, close: () => lab.close() };
  } catch (error) {
    await lab.close();
    throw error;
  }
}

// Addresses of the all-states scenario. `.3`/`fd00::3` become lost peers for main.
const MAIN4 = '198.18.0.1';
const MAIN4_ALT = '198.18.0.11';
const MAIN6 = 'fd00::1';
const PEER4 = '198.18.0.2';
const LOST4 = '198.18.0.3';
const PEER6 = 'fd00::2';
const LOST6 = 'fd00::3';
const mapped = (address: string): string => `::ffff:${address}`;

/** Port range and reserved ports of main in all-states: 43000 listens inside the range. */
export const ALL_STATES_PORT_RANGE = '40000 44999';
export const ALL_STATES_RESERVED_PORTS = '41000-41009,42000';

/**
 * Two namespaces, `main` and `peer`, joined by veth. Main ends up holding every state from
 * LISTEN to LAST_ACK over IPv4, IPv6 and IPv4-mapped (dual-stack listener on 443, outbound
 * v6 sockets to `::ffff:` addresses), with listeners on 80, 443, 8443 and 43000 (inside its
 * custom ephemeral range), outbound sockets to 5432, 8080 and 9000, and sockets bound to a
 * reserved port (42000) and to a non-reserved in-range port (44444). Fewer than 150 sockets.
 */
export function buildAllStatesScenario(options: ScenarioOptions = {}): Promise<ScenarioHandle> {
  return withLab(options, async (lab) => {
    const main = lab.addNamespace('main');
    const peer = lab.addNamespace('peer');
    lab.link(
      { ns: main, device: 'to-peer', addresses: [`${MAIN4}/24`, `${MAIN4_ALT}/24`, `${MAIN6}/64`] },
      {
        ns: peer,
        device: 'to-main',
        addresses: [`${PEER4}/24`, `${LOST4}/24`, `${PEER6}/64`, `${LOST6}/64`],
      },
    );
    lab.setSysctl(main, 'net.ipv4.ip_local_port_range', ALL_STATES_PORT_RANGE);
    lab.setSysctl(main, 'net.ipv4.ip_local_reserved_ports', ALL_STATES_RESERVED_PORTS);
    // Keep request sockets (SYN_RECV) alive well past any test or capture.
    lab.setSysctl(main, 'net.ipv4.tcp_synack_retries', '8');
    protectTimeWait(lab, main);

    const mainAgent = new SocketAgent(lab, main);
    const peerAgent = new SocketAgent(lab, peer);
    const expect = new Expectation();

    await mainAgent.listen({ name: 'web', host: '0.0.0.0', port: 80, onAccept: 'hold' });
    await mainAgent.listen({ name: 'tls', host: '::', port: 443, onAccept: 'hold' });
    await mainAgent.listen({
      name: 'alt',
      host: MAIN6,
      port: 8443,
      ipv6Only: true,
      onAccept: 'closeFirst',
    });
    await mainAgent.listen({ name: 'inrange', host: '0.0.0.0', port: 43000, onAccept: 'hold' });
    expect.add('ipv4', 'listen', 2);
    expect.add('ipv6', 'listen', 2);
    await peerAgent.listen({ name: 'fpm', host: '::', port: 9000, onAccept: 'passive' });
    await peerAgent.listen({ name: 'app', host: '::', port: 8080, onAccept: 'hold' });
    await peerAgent.listen({ name: 'db', host: '0.0.0.0', port: 5432, onAccept: 'hold' });

    // Main's outbound sockets. Explicit binds first, before the kernel hands those ports out.
    const outbound: Array<[Family, TcpState, ConnectCommand]> = [
      ['ipv4', 'established', c('db-reserved', PEER4, 5432, 1, 'hold', { localPort: 42000 })],
      ['ipv6', 'established', c('app-bound', PEER6, 8080, 1, 'hold', { localPort: 44444 })],
      ['ipv4', 'established', c('db', PEER4, 5432, 3, 'hold')],
      ['ipv6', 'established', c('app6', PEER6, 8080, 2, 'hold')],
      ['ipv6', 'established', c('fpm-mapped', mapped(PEER4), 9000, 2, 'hold')],
      ['ipv4', 'time_wait', c('fpm-tw', PEER4, 9000, 20, 'close')],
      ['ipv6', 'time_wait', c('fpm-tw-mapped', mapped(PEER4), 9000, 6, 'close')],
      ['ipv4', 'time_wait', c('fpm-tw-alt', PEER4, 9000, 5, 'close', { localAddress: MAIN4_ALT })],
      ['ipv6', 'time_wait', c('fpm-tw6', PEER6, 9000, 8, 'close')],
      ['ipv4', 'fin_wait2', c('app-fw2', PEER4, 8080, 2, 'hold')],
      ['ipv6', 'fin_wait2', c('app-fw2-6', PEER6, 8080, 1, 'hold')],
      ['ipv6', 'fin_wait2', c('app-fw2-mapped', mapped(PEER4), 8080, 1, 'hold')],
      ['ipv4', 'fin_wait1', c('lost-fw1', LOST4, 8080, 2, 'hold')],
      ['ipv6', 'fin_wait1', c('lost-fw1-6', LOST6, 8080, 1, 'hold')],
      ['ipv6', 'fin_wait1', c('lost-fw1-mapped', mapped(LOST4), 8080, 1, 'hold')],
    ];
    for (const [family, state, command] of outbound) {
      await mainAgent.connect(command);
      expect.add(family, state, command.count);
    }
    for (const group of ['app-fw2', 'app-fw2-6', 'app-fw2-mapped']) {
      await mainAgent.end({ group });
    }

    // Peer's connections into main's listeners.
    const inbound: Array<[Family, TcpState, ConnectCommand]> = [
      ['ipv4', 'established', c('web', MAIN4, 80, 3, 'hold', { localAddress: PEER4 })],
      ['ipv6', 'established', c('tls-mapped', MAIN4, 443, 2, 'hold', { localAddress: PEER4 })],
      ['ipv6', 'established', c('tls6', MAIN6, 443, 2, 'hold', { localAddress: PEER6 })],
      ['ipv4', 'established', c('inrange', MAIN4, 43000, 2, 'hold', { localAddress: PEER4 })],
      ['ipv4', 'close_wait', c('web-cw', MAIN4, 80, 2, 'hold', { localAddress: PEER4 })],
      ['ipv6', 'close_wait', c('tls-cw-mapped', MAIN4, 443, 1, 'hold', { localAddress: PEER4 })],
      ['ipv6', 'close_wait', c('tls-cw6', MAIN6, 443, 1, 'hold', { localAddress: PEER6 })],
      ['ipv6', 'time_wait', c('alt-tw', MAIN6, 8443, 4, 'passive', { localAddress: PEER6 })],
      ['ipv4', 'last_ack', c('web-la', MAIN4, 80, 2, 'hold', { localAddress: LOST4 })],
      ['ipv6', 'last_ack', c('tls-la6', MAIN6, 443, 1, 'hold', { localAddress: LOST6 })],
      ['ipv6', 'last_ack', c('tls-la-mapped', MAIN4, 443, 1, 'hold', { localAddress: LOST4 })],
    ];
    for (const [family, state, command] of inbound) {
      await peerAgent.connect(command);
      expect.add(family, state, command.count);
    }
    const halfClosedByPeer = inbound
      .filter(([, state]) => state === 'close_wait' || state === 'last_ack')
      .map(([, , command]) => command);
    for (const command of halfClosedByPeer) await peerAgent.end({ group: command.group });
    // Main must have seen the peer's FIN from the soon-lost addresses before it closes.
    const closeWaitWanted = halfClosedByPeer.reduce((sum, command) => sum + command.count, 0);
    await waitForSs(lab, main, (sockets) => {
      const closeWait = sockets.filter((s) => s.state === 'close_wait').length;
      return closeWait === closeWaitWanted
        ? []
        : [`${closeWait} CLOSE-WAIT, want ${closeWaitWanted}`];
    });

    lab.losePeer(main, 'to-peer', LOST4);
    lab.losePeer(main, 'to-peer', LOST6);
    // Main's FIN to a lost peer is never acknowledged: FIN_WAIT1 and LAST_ACK.
    for (const group of ['lost-fw1', 'lost-fw1-6', 'lost-fw1-mapped']) {
      await mainAgent.end({ group });
    }
    await mainAgent.end({ group: 'web', remoteAddress: LOST4 });
    await mainAgent.end({ group: 'tls', remoteAddress: LOST6 });
    await mainAgent.end({ group: 'tls', remoteAddress: LOST4 });
    // Main's SYNs to a lost peer go unanswered: SYN_SENT.
    const synSent: Array<[Family, ConnectCommand]> = [
      ['ipv4', c('lost-db', LOST4, 5432, 2, 'pending')],
      ['ipv6', c('lost-app6', LOST6, 8080, 1, 'pending')],
      ['ipv6', c('lost-app-mapped', mapped(LOST4), 8080, 1, 'pending')],
    ];
    for (const [family, command] of synSent) {
      await mainAgent.connect(command);
      expect.add(family, 'syn_sent', command.count);
    }
    // The lost peer's SYNs reach main, main's SYN-ACKs are lost: SYN_RECV request sockets.
    const synRecv: Array<[Family, ConnectCommand]> = [
      ['ipv4', c('half-inrange', MAIN4, 43000, 2, 'pending', { localAddress: LOST4 })],
      ['ipv6', c('half-tls6', MAIN6, 443, 1, 'pending', { localAddress: LOST6 })],
      ['ipv6', c('half-tls-mapped', MAIN4, 443, 1, 'pending', { localAddress: LOST4 })],
    ];
    for (const [family, command] of synRecv) {
      await peerAgent.connect(command);
      expect.add(family, 'syn_recv', command.count);
    }

    await waitForSs(lab, main, (sockets) => stateCountDifferences(sockets, expect.counts));
    return {
      name: 'all-states',
      description:
        'Namespaces main and peer joined by veth (198.18.0.0/24, fd00::/64). Main listens on ' +
        '0.0.0.0:80, [::]:443 (dual-stack), [fd00::1]:8443 (v6only) and 0.0.0.0:43000 (inside ' +
        `its ip_local_port_range ${ALL_STATES_PORT_RANGE}; reserved ${ALL_STATES_RESERVED_PORTS}) ` +
        'and connects to the peer on 5432, 8080 and 9000 (one socket bound to reserved port ' +
        '42000, one to 44444). States over IPv4, IPv6 and IPv4-mapped: ESTABLISHED, TIME_WAIT ' +
        '(main closed first, outbound and on 8443), FIN_WAIT2/CLOSE_WAIT (half-closes), ' +
        'FIN_WAIT1/LAST_ACK/SYN_SENT/SYN_RECV (198.18.0.3 and fd00::3 made lost by permanent ' +
        'neighbour entries to an unused MAC).',
      mainNs: main,
      netnsNames: [main, peer],
      expectedMain: expect.counts,
    };
  });
}

/** Port range of the client in client-timewait: narrow, as on a busy proxy. */
export const CLIENT_TIMEWAIT_PORT_RANGE = '40000 40999';

/**
 * The nginx → php-fpm story: a `client` namespace with a narrow ephemeral range opens 600
 * short connections that it closes first, 450 to php-fpm on 198.18.1.2:9000 and 150 to an
 * app on 198.18.1.3:8080, and keeps 4 to php-fpm; it also listens on 80 with 3 visitors.
 */
export function buildClientTimewaitScenario(
  options: ScenarioOptions = {},
): Promise<ScenarioHandle> {
  return withLab(options, async (lab) => {
    const client = lab.addNamespace('client');
    const upstream = lab.addNamespace('upstream');
    lab.link(
      { ns: client, device: 'to-upstream', addresses: ['198.18.1.1/24'] },
      { ns: upstream, device: 'to-client', addresses: ['198.18.1.2/24', '198.18.1.3/24'] },
    );
    lab.setSysctl(client, 'net.ipv4.ip_local_port_range', CLIENT_TIMEWAIT_PORT_RANGE);
    protectTimeWait(lab, client);
    const clientAgent = new SocketAgent(lab, client);
    const upstreamAgent = new SocketAgent(lab, upstream);
    const expect = new Expectation();

    await clientAgent.listen({ name: 'nginx', host: '0.0.0.0', port: 80, onAccept: 'hold' });
    await clientAgent.listen({
      name: 'nginx6',
      host: '::',
      port: 80,
      ipv6Only: true,
      onAccept: 'hold',
    });
    expect.add('ipv4', 'listen', 1);
    expect.add('ipv6', 'listen', 1);
    await upstreamAgent.listen({
      name: 'fpm',
      host: '198.18.1.2',
      port: 9000,
      onAccept: 'passive',
    });
    await upstreamAgent.listen({
      name: 'app',
      host: '198.18.1.3',
      port: 8080,
      onAccept: 'passive',
    });

    const commands: Array<[TcpState, ConnectCommand]> = [
      ['established', c('fpm-keepalive', '198.18.1.2', 9000, 4, 'hold')],
      ['time_wait', c('fpm', '198.18.1.2', 9000, 450, 'close')],
      ['time_wait', c('app', '198.18.1.3', 8080, 150, 'close')],
    ];
    for (const [state, command] of commands) {
      await clientAgent.connect(command);
      expect.add('ipv4', state, command.count);
    }
    await upstreamAgent.connect(
      c('visitors', '198.18.1.1', 80, 3, 'hold', { localAddress: '198.18.1.2' }),
    );
    expect.add('ipv4', 'established', 3);

    await waitForSs(lab, client, (sockets) => stateCountDifferences(sockets, expect.counts));
    return {
      name: 'client-timewait',
      description:
        `Namespace client (198.18.1.1, ip_local_port_range ${CLIENT_TIMEWAIT_PORT_RANGE}) ` +
        'opened 600 connections it closed first: 450 to php-fpm 198.18.1.2:9000 and 150 to ' +
        '198.18.1.3:8080 (TIME_WAIT), keeps 4 ESTABLISHED to php-fpm, and listens on ' +
        '0.0.0.0:80 and [::]:80 (v6only) with 3 ESTABLISHED visitors from 198.18.1.2.',
      mainNs: client,
      netnsNames: [client, upstream],
      expectedMain: expect.counts,
    };
  });
}

export const SCENARIOS: Readonly<
  Record<string, (options?: ScenarioOptions) => Promise<ScenarioHandle>>
> = {
  'all-states': buildAllStatesScenario,
  'client-timewait': buildClientTimewaitScenario,
};

function c(
  group: string,
  host: string,
  port: number,
  count: number,
  then: ConnectCommand['then'],
  extra: Pick<ConnectCommand, 'localAddress' | 'localPort'> = {},
): ConnectCommand {
  return { group, host, port, count, then, ...extra };
}
