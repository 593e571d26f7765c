/** The round on fixture trees: ranking by sockets, the max bound, per-namespace sysctls, failures. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NamespaceSysctlReader, NetnsRoundSampler } from '../../src/snapshot/netns-round.js';
import type { NetnsRound } from '../../src/snapshot/netns-view.js';
import type { NamespaceSysctls } from '../../src/sources/netns-sysctl.js';
import { namespaceSysctls } from '../../testkit/kernel/namespace-sysctls.js';
import { writeNodeProcfs } from '../../testkit/kernel/node-procfs.js';

function sysctls(low: number, high: number, twReuse: number): NamespaceSysctls {
  return namespaceSysctls({
    'net.ipv4.ip_local_port_range.low': low,
    'net.ipv4.ip_local_port_range.high': high,
    'net.ipv4.tcp_tw_reuse': twReuse,
    'net.ipv4.tcp_timestamps': 1,
  });
}

/** Walks on a minute's age, or when sockets could hold a quarter of the usable ports. */
const WALKS = { walkMaxAgeMs: 60_000, walkUseRatio: 0.25 };

/** Rewrites fields of the `Tcp:` lines of a net/snmp file; null removes the field. */
function setTcpCounters(path: string, values: Readonly<Record<string, number | null>>): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  const header = lines.findIndex((line) => line.startsWith('Tcp: '));
  const names = (lines[header] as string).split(' ');
  const numbers = (lines[header + 1] as string).split(' ');
  for (const [name, value] of Object.entries(values)) {
    const index = names.indexOf(name);
    if (value === null) {
      names.splice(index, 1);
      numbers.splice(index, 1);
    } else numbers[index] = String(value);
  }
  lines[header] = names.join(' ');
  lines[header + 1] = numbers.join(' ');
  writeFileSync(path, lines.join('\n'));
}

function reader(fresh: NamespaceSysctlReader['fresh']): NamespaceSysctlReader {
  return { fresh, evictExcept: () => {} };
}

describe('NetnsRoundSampler on a fixture node', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'netns-round-'));
    const client = (count: number) => ({
      state: 'established' as const,
      local: '10.0.0.1:40000',
      remote: '10.0.0.2:80',
      count,
    });
    writeNodeProcfs(
      root,
      [
        { pid: 1, comm: 'init', netns: 'node' },
        { pid: 10, comm: 'small', netns: 'small', nsInode: 1001 },
        { pid: 20, comm: 'big', netns: 'big', nsInode: 1002 },
        { pid: 30, comm: 'middle', netns: 'middle', nsInode: 1003 },
      ],
      {
        node: { sockets: [client(50)] },
        small: { sockets: [client(1)] },
        big: { sockets: [client(6)], netstat: { TW: 77 } },
        middle: { sockets: [client(3)] },
      },
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps the --collector.netns.max namespaces with most sockets and counts the rest as dropped', async () => {
    // Each namespace's own range: the path names the process read.
    const ranges: Record<string, NamespaceSysctls> = {
      [join(root, '10/ns/net')]: sysctls(40000, 40099, 0),
      [join(root, '20/ns/net')]: sysctls(40000, 40009, 0),
      [join(root, '30/ns/net')]: sysctls(30000, 30999, 0),
    };
    const round = await new NetnsRoundSampler(
      { procfsRoot: root, podLogsDir: join(root, 'none'), max: 2, topDestinations: 1, ...WALKS },
      reader(async (_inode, nsFile) => ranges[nsFile] as NamespaceSysctls),
    ).run();
    expect(round.namespaces.map((ns) => [ns.inode, ns.socketCount])).toEqual([
      [1002, 6],
      [1003, 3],
    ]);
    expect(round.dropped).toBe(1);
    expect(round.failures).toEqual([]);
    const [big, middle] = round.namespaces;
    expect(big?.ephemeral).toMatchObject({ usable: 10, usedMax: 6, held: 6 });
    expect(big?.netstat.tcpExt.TW).toBe(77);
    expect(big?.ephemeral.destinations).toHaveLength(1);
    // Its ports lie outside its own range: nothing used.
    expect(middle?.ephemeral).toMatchObject({ usable: 1000, usedMax: 0 });
  });

  it('counts the rounds in which a namespace had no usable port left toward a destination', async () => {
    const rangeOf: Record<string, NamespaceSysctls> = {
      [join(root, '10/ns/net')]: sysctls(40000, 40099, 0),
      // Six usable ports, all six held by big's sockets toward 10.0.0.2:80.
      [join(root, '20/ns/net')]: sysctls(40000, 40005, 0),
      [join(root, '30/ns/net')]: sysctls(40000, 40099, 0),
    };
    const rounds = new NetnsRoundSampler(
      { procfsRoot: root, podLogsDir: root, max: 10, topDestinations: 1, ...WALKS },
      reader(async (_inode, nsFile) => rangeOf[nsFile] as NamespaceSysctls),
    );
    const exhausted = (round: NetnsRound) =>
      Object.fromEntries(round.namespaces.map((ns) => [ns.inode, ns.exhaustedRounds]));
    const first = await rounds.run();
    expect(first.namespaces.find((ns) => ns.inode === 1002)?.ephemeral).toMatchObject({
      usable: 6,
      usedMax: 6,
    });
    expect(exhausted(first)).toEqual({ 1001: 0, 1002: 1, 1003: 0 });
    expect(exhausted(await rounds.run())).toEqual({ 1001: 0, 1002: 2, 1003: 0 });
  });

  it('fails a namespace alone when its files vanish, and assumes defaults when its sysctls cannot be read', async () => {
    // Gone after discovery saw net/tcp: as when the process exits mid-read.
    rmSync(join(root, '30/net/netstat'));
    const round = await new NetnsRoundSampler(
      { procfsRoot: root, podLogsDir: root, max: 10, topDestinations: 3, ...WALKS },
      reader(async (inode) => {
        if (inode === 1001) throw new Error('nsenter: cannot open');
        return sysctls(40000, 40099, 0);
      }),
    ).run();
    expect(round.failures).toEqual([
      { inode: 1003, pid: 30, error: expect.stringMatching(/30\/net\/netstat/) },
    ]);
    const [big, small] = round.namespaces;
    expect(big).toMatchObject({ inode: 1002, sysctlsAssumed: false });
    expect(big?.ephemeral.usable).toBe(100);
    // A new namespace's defaults: 32768-60999.
    expect(small).toMatchObject({ inode: 1001, sysctlsAssumed: true });
    expect(small?.sysctls['net.ipv4.ip_local_port_range.low']).toBe(32768);
    expect(small?.ephemeral.usable).toBe(60999 - 32768 + 1);
  });

  it('walks a namespace again only when its opens could bring it near the ports or it moved, else bounds it', async () => {
    const rangeOf: Record<string, NamespaceSysctls> = {
      [join(root, '10/ns/net')]: sysctls(40000, 40099, 0),
      [join(root, '20/ns/net')]: sysctls(40000, 40099, 0),
      [join(root, '30/ns/net')]: sysctls(30000, 30999, 0),
    };
    const sockstat = (inuse: number, tw: number) =>
      `sockets: used 9\nTCP: inuse ${inuse} orphan 0 tw ${tw} alloc ${inuse} mem 1\n`;
    // big's sockets (inuse + tw) are beyond its 100 usable ports, but not toward one destination.
    writeFileSync(join(root, '20/net/sockstat'), sockstat(6, 500));
    const rounds = new NetnsRoundSampler(
      { procfsRoot: root, podLogsDir: root, max: 10, topDestinations: 3, ...WALKS },
      reader(async (_inode, nsFile) => rangeOf[nsFile] as NamespaceSysctls),
    );
    const first = await rounds.run();
    expect(first.walked).toBe(3);
    const walkedBig = first.namespaces.find((ns) => ns.inode === 1002);
    expect(walkedBig?.ephemeral).toMatchObject({ usable: 100, usedMax: 6, held: 6 });

    // Nothing opened or moved: no walk; the last walk's states, ephemeral figures bounded.
    const second = await rounds.run();
    expect(second.walked).toBe(0);
    const big = second.namespaces.find((ns) => ns.inode === 1002);
    expect(big?.walkTimestampMs).toBe(walkedBig?.walkTimestampMs);
    expect(big?.states).toEqual(walkedBig?.states);
    expect(big?.sockstat).toEqual({ ipv4: { inuse: 6, tw: 500 }, ipv6: { inuse: 0 } });
    // No opens since the walk and no listener (inuse 6 = CurrEstab 6): the walk's figures.
    expect(big?.ephemeral).toMatchObject({ usable: 100, usedMax: 6, held: 6 });
    expect(big?.ephemeral.headroomRatio).toBeCloseTo(1 - 6 / 100, 9);

    // big opened 5 and has one socket more than CurrEstab (a listener, perhaps): still bounded.
    setTcpCounters(join(root, '20/net/snmp'), { ActiveOpens: 5, CurrEstab: 5 });
    const third = await rounds.run();
    expect(third.walked).toBe(0);
    const bounded = third.namespaces.find((ns) => ns.inode === 1002);
    // usable 100 - (6 - 5 listeners + 5 opened); used_max and held 6 + 5 opened.
    expect(bounded?.ephemeral).toMatchObject({ usable: 94, usedMax: 11, held: 11 });

    // small opened 24 and could now hold a quarter of its 100 ports; middle moved by 40 of its 1000.
    writeFileSync(join(root, '10/net/sockstat'), sockstat(1, 24));
    setTcpCounters(join(root, '10/net/snmp'), { ActiveOpens: 24 });
    writeFileSync(join(root, '30/net/sockstat'), sockstat(3, 40));
    const fourth = await rounds.run();
    expect(fourth.walked).toBe(2);
    const usedMax = (inode: number) =>
      fourth.namespaces.find((ns) => ns.inode === inode)?.ephemeral.usedMax;
    // A walk exports what the tables hold (bounds would say 25 and 43); big stays bounded.
    expect([usedMax(1001), usedMax(1003)]).toEqual([1, 0]);
    expect(fourth.namespaces.find((ns) => ns.inode === 1002)?.ephemeral.usable).toBe(94);

    // A counter missing (or gone backwards) leaves the sockets bound alone: near, walked.
    setTcpCounters(join(root, '20/net/snmp'), { ActiveOpens: null });
    const fifth = await rounds.run();
    expect(fifth.walked).toBe(1);
  });

  it('leaves first walks to the next round once its budget is spent, one walk a round at least', async () => {
    const rounds = new NetnsRoundSampler(
      { procfsRoot: root, podLogsDir: root, max: 10, topDestinations: 3, ...WALKS },
      reader(async () => sysctls(40000, 40099, 0)),
      () => {},
      0,
    );
    const exported: number[] = [];
    for (const expected of [1, 2, 3]) {
      const round = await rounds.run();
      expect(round.walked).toBe(1);
      expect(round.deferred).toBe(3 - expected);
      expect(round.failures).toEqual([]);
      // A namespace not walked yet is not shown; the walked ones stay, bounded.
      expect(round.namespaces).toHaveLength(expected);
      exported.push(...round.namespaces.map((ns) => ns.inode));
    }
    expect(new Set(exported)).toEqual(new Set([1001, 1002, 1003]));
  });

  it('reports a round that cannot list the procfs root as an error, with no namespaces', async () => {
    const round = await new NetnsRoundSampler(
      {
        procfsRoot: join(root, 'missing'),
        podLogsDir: root,
        max: 10,
        topDestinations: 3,
        ...WALKS,
      },
      reader(async () => sysctls(1, 2, 0)),
    ).run();
    expect(round.error).toMatch(/missing/);
    expect(round.namespaces).toEqual([]);
  });
});
