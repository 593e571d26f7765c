import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { emptyStateCounts, type SampleOptions } from '../../src/snapshot/model.js';
import { createSampler } from '../../src/snapshot/sample.js';
import { assumedNamespaceSysctls } from '../../src/sources/netns-sysctl.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';
import { formatTable, ipv4Mapped, type KernelSocket } from '../../testkit/kernel/kernel-format.js';

const root = mkdtempSync(join(tmpdir(), 'sample-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let treeCounter = 0;

const LISTEN = 10;
const ESTABLISHED = 1;
const TIME_WAIT = 6;
const CLOSE_WAIT = 8;
const SERVER = [198, 18, 0, 1];
const CLIENT = [198, 18, 0, 2];
const ANY = [0, 0, 0, 0];

interface Tree {
  tcp?: readonly KernelSocket[];
  tcp6?: readonly KernelSocket[] | null;
  files?: Record<string, string | null>;
}

const BASE_FILES: Record<string, string> = {
  'net/sockstat': 'sockets: used 10\nTCP: inuse 3 orphan 0 tw 2 alloc 4 mem 1\n',
  'net/sockstat6': 'TCP6: inuse 1\n',
  'net/netstat': 'TcpExt: TW TCPTimeWaitOverflow\nTcpExt: 5 0\n',
  'net/snmp': 'Tcp: ActiveOpens PassiveOpens\nTcp: 7 3\n',
  'sys/net/ipv4/ip_local_port_range': '40000\t40099\n',
  'sys/net/ipv4/ip_local_reserved_ports': '40010-40019,40050\n',
  'sys/net/ipv4/tcp_tw_reuse': '2\n',
  'sys/net/ipv4/tcp_max_tw_buckets': '262144\n',
  'sys/net/ipv4/tcp_fin_timeout': '60\n',
  'sys/net/ipv4/tcp_timestamps': '1\n',
  'sys/net/ipv4/tcp_syncookies': '1\n',
  'sys/net/ipv4/tcp_max_syn_backlog': '512\n',
  'sys/net/core/somaxconn': '4096\n',
};

function makeTree(tree: Tree): string {
  const dir = join(root, `tree-${treeCounter++}`);
  const files: Record<string, string | null> = {
    ...BASE_FILES,
    'net/tcp': formatTable('ipv4', tree.tcp ?? []),
    'net/tcp6': tree.tcp6 === null ? null : formatTable('ipv6', tree.tcp6 ?? []),
    ...tree.files,
  };
  for (const [relative, content] of Object.entries(files)) {
    if (content === null) continue;
    mkdirSync(dirname(join(dir, relative)), { recursive: true });
    writeFileSync(join(dir, relative), content);
  }
  return dir;
}

function sample(tree: Tree, options: Partial<SampleOptions> = {}) {
  return sampleProcfs({ procfsRoot: makeTree(tree), ...options });
}

const socket = (
  local: readonly number[],
  localPort: number,
  remote: readonly number[],
  remotePort: number,
  state: number,
  extra: Partial<KernelSocket> = {},
): KernelSocket => ({ local, localPort, remote, remotePort, state, ...extra });

describe('per-port aggregates', () => {
  it('splits inbound by listening port and outbound by remote port', () => {
    const snapshot = sample({
      tcp: [
        socket(CLIENT, 40001, SERVER, 9000, TIME_WAIT),
        socket(ANY, 80, ANY, 0, LISTEN),
        socket(SERVER, 80, CLIENT, 51000, ESTABLISHED),
        socket(SERVER, 80, CLIENT, 51001, CLOSE_WAIT),
        socket(CLIENT, 40002, SERVER, 9000, ESTABLISHED),
      ],
    });
    const sockets = snapshot.sockets;
    expect(sockets?.listeningPorts).toEqual([80]);
    expect(sockets?.listenPorts).toEqual([
      { port: 80, states: { ...emptyStateCounts(), established: 1, close_wait: 1 } },
    ]);
    expect(sockets?.remotePorts).toEqual([
      { port: 9000, states: { ...emptyStateCounts(), established: 1, time_wait: 1 } },
    ]);
  });

  it('treats a port as listening even when its listener comes last, in the other table', () => {
    const snapshot = sample({
      tcp: [socket(SERVER, 8080, CLIENT, 45000, ESTABLISHED)],
      tcp6: [socket(Array(16).fill(0), 8080, Array(16).fill(0), 0, LISTEN)],
    });
    expect(snapshot.sockets?.listenPorts.map((row) => row.port)).toEqual([8080]);
    expect(snapshot.sockets?.remotePorts).toEqual([]);
  });

  it('keeps the busiest listening ports and sums the rest into other', () => {
    const tcp: KernelSocket[] = [];
    for (const [port, connections] of [
      [81, 1],
      [82, 5],
      [83, 3],
      [84, 2],
    ] as const) {
      tcp.push(socket(ANY, port, ANY, 0, LISTEN));
      for (let i = 0; i < connections; i++)
        tcp.push(socket(SERVER, port, CLIENT, 50000 + i, ESTABLISHED));
    }
    const ports = sample({ tcp }, { maxListenPorts: 2 }).sockets?.listenPorts;
    expect(ports?.map((row) => [row.port, row.states.established])).toEqual([
      [82, 5],
      [83, 3],
      ['other', 3],
    ]);
  });

  it('keeps the top remote ports by count, ties to the lower port, rest in other', () => {
    const tcp = [443, 443, 443, 9000, 8080, 8080, 22].map((port, i) =>
      socket(CLIENT, 40000 + i, SERVER, port, ESTABLISHED),
    );
    const ports = sample({ tcp }, { topRemotePorts: 2 }).sockets?.remotePorts;
    expect(ports?.map((row) => [row.port, row.states.established])).toEqual([
      [443, 3],
      [8080, 2],
      ['other', 2],
    ]);
  });
});

describe('ephemeral ports', () => {
  // Range 40000-40099 (100 ports), reserved 40010-40019 and 40050 (11 ports).
  it('counts usable ports as range minus reserved minus listening ports in the range', () => {
    const snapshot = sample({
      tcp: [
        socket(ANY, 40020, ANY, 0, LISTEN),
        socket(ANY, 40015, ANY, 0, LISTEN),
        socket(ANY, 22, ANY, 0, LISTEN),
      ],
    });
    expect(snapshot.sockets?.ephemeral).toMatchObject({
      rangeLow: 40000,
      rangeHigh: 40099,
      usable: 88,
      usedMax: 0,
    });
  });

  it('groups use by destination, skipping reserved, listening and out-of-range local ports', () => {
    const tcp = [
      socket(CLIENT, 40001, SERVER, 9000, TIME_WAIT),
      socket(CLIENT, 40002, SERVER, 9000, TIME_WAIT),
      socket(CLIENT, 40003, SERVER, 9000, ESTABLISHED),
      socket(CLIENT, 40004, SERVER, 8080, TIME_WAIT),
      socket(CLIENT, 40012, SERVER, 9000, TIME_WAIT), // reserved
      socket(CLIENT, 39999, SERVER, 9000, TIME_WAIT), // below the range
      socket(ANY, 40030, ANY, 0, LISTEN),
      socket(CLIENT, 40030, SERVER, 61000, ESTABLISHED), // an accepted connection on a listening port
    ];
    const ephemeral = sample({ tcp }).sockets?.ephemeral;
    expect(ephemeral?.usedMax).toBe(3);
    expect(ephemeral?.destinationCount).toBe(2);
    expect(ephemeral?.usable).toBe(88);
    expect(ephemeral?.headroomRatio).toBeCloseTo(1 - 3 / 88, 10);
    expect(ephemeral?.destinations).toEqual([
      {
        localAddress: '198.18.0.2',
        remoteAddress: '198.18.0.1',
        remotePort: 9000,
        used: 3,
        timeWait: 2,
        holdSeconds: 60,
      },
      {
        localAddress: '198.18.0.2',
        remoteAddress: '198.18.0.1',
        remotePort: 8080,
        used: 1,
        timeWait: 1,
        holdSeconds: 60,
      },
    ]);
  });

  it('folds IPv4-mapped sockets into the IPv4 destination they compete with', () => {
    const ephemeral = sample({
      tcp: [socket(CLIENT, 40001, SERVER, 9000, TIME_WAIT)],
      tcp6: [socket(ipv4Mapped(CLIENT), 40002, ipv4Mapped(SERVER), 9000, ESTABLISHED)],
    }).sockets?.ephemeral;
    expect(ephemeral?.destinations).toEqual([
      {
        localAddress: '198.18.0.2',
        remoteAddress: '198.18.0.1',
        remotePort: 9000,
        used: 2,
        timeWait: 1,
        holdSeconds: 60,
      },
    ]);
  });

  it('names IPv6 destinations in their text form', () => {
    const local = [0xfd, 0, ...Array(13).fill(0), 2];
    const remote = [0xfd, 0, ...Array(13).fill(0), 1];
    const ephemeral = sample({ tcp6: [socket(local, 40005, remote, 443, ESTABLISHED)] }).sockets
      ?.ephemeral;
    expect(ephemeral?.destinations).toEqual([
      {
        localAddress: 'fd00::2',
        remoteAddress: 'fd00::1',
        remotePort: 443,
        used: 1,
        timeWait: 0,
        holdSeconds: 60,
      },
    ]);
  });

  it('limits the listed destinations but keeps the worst one exact', () => {
    const tcp: KernelSocket[] = [];
    for (let d = 0; d < 5; d++) {
      for (let i = 0; i <= d; i++)
        tcp.push(socket(CLIENT, 40020 + i, [198, 18, 1, d], 9000, TIME_WAIT));
    }
    const ephemeral = sample({ tcp }, { topDestinations: 2 }).sockets?.ephemeral;
    expect(ephemeral?.usedMax).toBe(5);
    expect(ephemeral?.destinationCount).toBe(5);
    expect(ephemeral?.destinations.map((d) => [d.remoteAddress, d.used])).toEqual([
      ['198.18.1.4', 5],
      ['198.18.1.3', 4],
    ]);
  });

  it('leaves ephemeral out with a reason when the port range cannot be read, keeping the rest', () => {
    const snapshot = sample({
      tcp: [socket(CLIENT, 40001, SERVER, 9000, TIME_WAIT)],
      files: { 'sys/net/ipv4/ip_local_port_range': null },
    });
    expect(snapshot.sources.sockets?.success).toBe(true);
    expect(snapshot.sockets?.ephemeral).toBeUndefined();
    expect(snapshot.sockets?.ephemeralError).toContain('ip_local_port_range');
    expect(snapshot.sockets?.states.ipv4.time_wait).toBe(1);
    expect(snapshot.sources.sysctl).toMatchObject({ success: false });
    expect(snapshot.sources.sysctl?.error).toContain('ip_local_port_range');
  });
});

describe('sources fail alone', () => {
  it('a /proc/<pid> root whose process is gone fails every source, sysctl with its handed-over values too', () => {
    // A /proc/<pid> root: no sys/, its sysctls handed over (here a new namespace's defaults).
    const noSys = Object.fromEntries(
      Object.keys(BASE_FILES)
        .filter((name) => name.startsWith('sys/'))
        .map((name) => [name, null]),
    );
    const procfsRoot = makeTree({ files: noSys });
    const sampler = createSampler(defaultSampleOptions(procfsRoot));
    const namespace = assumedNamespaceSysctls('not read yet');
    const alive = sampler.sample(namespace);
    for (const [name, status] of Object.entries(alive.sources)) {
      expect(status?.success, name).toBe(true);
    }

    // The process exits: its /proc/<pid>/net goes (for a zombie as well).
    rmSync(join(procfsRoot, 'net'), { recursive: true });
    const gone = sampler.sample(namespace);
    for (const [name, status] of Object.entries(gone.sources)) {
      expect(status?.success, name).toBe(false);
    }
    expect(gone.sources.sysctl?.error).toBe(
      `the namespace of ${procfsRoot} is gone: ${join(procfsRoot, 'net/tcp')} no longer exists (its process exited)`,
    );
    expect(gone.sysctl).toBeUndefined();
  });

  it('a missing tcp fails sockets with the path and leaves every other source working', () => {
    const snapshot = sample({ files: { 'net/tcp': null } });
    expect(snapshot.sources.sockets).toMatchObject({ success: false });
    expect(snapshot.sources.sockets?.error).toContain(join('net', 'tcp'));
    expect(snapshot.sockets).toBeUndefined();
    expect(snapshot.sources.sockstat?.success).toBe(true);
    expect(snapshot.sources.netstat?.success).toBe(true);
    expect(snapshot.sources.sysctl?.success).toBe(true);
    expect(snapshot.netstat?.tcpExt.TW).toBe(5);
  });

  it('a missing tcp6 (IPv6 disabled) leaves the IPv4 results as they were', () => {
    const tcp = [socket(ANY, 80, ANY, 0, LISTEN), socket(SERVER, 80, CLIENT, 50000, ESTABLISHED)];
    const withIpv6 = sample({ tcp });
    const withoutIpv6 = sample({ tcp, tcp6: null, files: { 'net/sockstat6': null } });
    expect(withoutIpv6.sources.sockets?.success).toBe(true);
    expect(withoutIpv6.sockets?.tcp6.present).toBe(false);
    expect(withoutIpv6.sockets?.states).toEqual(withIpv6.sockets?.states);
    expect(withoutIpv6.sockets?.listenPorts).toEqual(withIpv6.sockets?.listenPorts);
    expect(withoutIpv6.sockstat?.ipv6).toBeUndefined();
  });

  it.each([
    ['net/netstat', 'netstat'],
    ['net/snmp', 'netstat'],
    ['net/sockstat', 'sockstat'],
    ['sys/net/ipv4/tcp_max_tw_buckets', 'sysctl'],
  ] as const)('a missing %s fails %s only, naming the path', (file, source) => {
    const snapshot = sample({ files: { [file]: null } });
    expect(snapshot.sources[source]?.success).toBe(false);
    expect(snapshot.sources[source]?.error).toContain(file);
    expect(snapshot[source]).toBeUndefined();
    for (const other of ['sockets', 'sockstat', 'netstat', 'sysctl'] as const) {
      if (other !== source) expect(snapshot.sources[other]?.success).toBe(true);
    }
  });

  it('a sysctl that only newer kernels have is absent, not a failure', () => {
    const snapshot = sample({});
    expect(snapshot.sources.sysctl?.success).toBe(true);
    expect(snapshot.sysctl?.values).not.toHaveProperty(['net.ipv4.tcp_tw_reuse_delay']);
    expect(snapshot.sysctl?.values['net.ipv4.tcp_max_tw_buckets']).toBe(262144);
    expect(snapshot.sysctl?.reservedPorts).toEqual([
      [40010, 40019],
      [40050, 40050],
    ]);
  });

  it('garbage in a counter file fails that source with a reason', () => {
    const snapshot = sample({ files: { 'net/netstat': 'TcpExt: A B\nTcpExt: 1\n' } });
    expect(snapshot.sources.netstat).toMatchObject({ success: false });
    expect(snapshot.sources.netstat?.error).toContain('net/netstat');
  });

  it('reads nothing for a disabled source and reports nothing for it', () => {
    const snapshot = sample(
      { files: { 'net/netstat': null } },
      {
        sources: {
          sockets: true,
          sockstat: false,
          netstat: false,
          sysctl: true,
          conntrack: false,
          snat: false,
          udp: false,
        },
      },
    );
    expect(Object.keys(snapshot.sources).sort()).toEqual(['sockets', 'sysctl']);
    expect(snapshot.netstat).toBeUndefined();
  });

  // 100 listeners: one malformed line is within the share a table may have, two are not.
  const listeners = formatTable(
    'ipv4',
    Array.from({ length: 100 }, (_, index) => socket(ANY, 1000 + index, ANY, 0, LISTEN)),
  );

  it('counts malformed lines per file and the bytes and lines read', () => {
    const snapshot = sample({ files: { 'net/tcp': `${listeners}garbage line\n` } });
    expect(snapshot.sources.sockets?.success).toBe(true);
    expect(snapshot.sockets?.tcp).toMatchObject({
      lines: 101,
      sockets: 100,
      malformed: 1,
      bytes: listeners.length + 13,
    });
    expect(snapshot.sockets?.linesRead).toBe(101 + (snapshot.sockets?.tcp6.lines ?? 0));
  });

  it('fails the sockets source when more than 1% of a table is malformed, the others go on', () => {
    const snapshot = sample({ files: { 'net/tcp': `${listeners}garbage\nmore garbage\n` } });
    expect(snapshot.sources.sockets).toMatchObject({ success: false });
    expect(snapshot.sources.sockets?.error).toMatch(
      /net\/tcp: 2 of its 102 lines are malformed \(more than 1%\)$/,
    );
    expect(snapshot.sockets).toBeUndefined();
    expect(snapshot.sources.sockstat?.success).toBe(true);
    expect(snapshot.sources.netstat?.success).toBe(true);
  });
});

describe('the connect() model', () => {
  const LOOPBACK = [127, 0, 0, 1];
  const LOOPBACK_OTHER = [127, 0, 0, 2];
  const IPV6_LOOPBACK = [...Array(15).fill(0), 1];
  const IPV6_CLIENT = [0xfd, 0, ...Array(13).fill(0), 2];
  const IPV6_SERVER = [0xfd, 0, ...Array(13).fill(0), 1];
  /** `when` of a TIME_WAIT `age` seconds old: ticks of 10 ms left of its 60 s. */
  const ticksLeft = (ageSeconds: number) => Math.round((60 - ageSeconds) * 100);
  const timeWait = (
    local: readonly number[],
    port: number,
    remote: readonly number[],
    age: number,
  ) => socket(local, port, remote, 9000, TIME_WAIT, { ticksLeft: ticksLeft(age) });
  const sysctls = (values: Record<string, number | null>) =>
    Object.fromEntries(
      Object.entries(values).map(([name, value]) => [
        `sys/net/ipv4/${name}`,
        value === null ? null : `${value}\n`,
      ]),
    );

  /** The only destination's figures, and the reuse settings they were computed with. */
  function only(tree: Tree) {
    const ephemeral = sample(tree).sockets?.ephemeral;
    const [destination, ...rest] = ephemeral?.destinations ?? [];
    expect(rest).toEqual([]);
    return { ephemeral, destination };
  }

  it.each([
    // tcp_tw_reuse, delay ms, timestamps, local, remote, age s → blocking, hold s
    [2, 1000, 1, LOOPBACK, LOOPBACK, 10, 0, 1],
    [2, 1000, 1, LOOPBACK, LOOPBACK, 0.5, 1, 1],
    [2, 1000, 1, CLIENT, LOOPBACK_OTHER, 10, 0, 1],
    [2, 1000, 1, LOOPBACK, CLIENT, 10, 0, 1],
    [2, 1000, 1, CLIENT, SERVER, 10, 1, 60],
    [1, 1000, 1, CLIENT, SERVER, 10, 0, 1],
    [1, 1000, 1, CLIENT, SERVER, 0.5, 1, 1],
    [1, 5000, 1, CLIENT, SERVER, 4, 1, 5],
    [1, 5000, 1, CLIENT, SERVER, 6, 0, 5],
    [1, 1000, 0, CLIENT, SERVER, 10, 1, 60],
    [2, 1000, 0, LOOPBACK, LOOPBACK, 10, 1, 60],
    [0, 1000, 1, LOOPBACK, LOOPBACK, 10, 1, 60],
  ])(
    'tcp_tw_reuse=%i, delay %i ms, timestamps %i, %j -> %j, TIME_WAIT %d s old: %i blocking, hold %i s',
    (reuse, delay, timestamps, local, remote, age, blocking, hold) => {
      const { ephemeral, destination } = only({
        tcp: [timeWait(local, 40001, remote, age)],
        files: sysctls({
          tcp_tw_reuse: reuse,
          tcp_tw_reuse_delay: delay,
          tcp_timestamps: timestamps,
        }),
      });
      expect(ephemeral?.reuse).toEqual({ twReuse: reuse, twReuseDelayMs: delay, timestamps });
      expect(ephemeral?.usedMax).toBe(blocking);
      expect(ephemeral?.held).toBe(1);
      expect(ephemeral?.destinationCount).toBe(blocking);
      if (blocking === 0) return expect(destination).toBeUndefined();
      expect(destination).toMatchObject({ used: 1, timeWait: 1, holdSeconds: hold });
    },
  );

  it('reuses after a fixed 1 s on kernels without tcp_tw_reuse_delay', () => {
    const tree = (age: number): Tree => ({
      tcp: [timeWait(CLIENT, 40001, SERVER, age), socket(CLIENT, 40002, SERVER, 9000, ESTABLISHED)],
      files: sysctls({ tcp_tw_reuse: 1, tcp_tw_reuse_delay: null }),
    });
    expect(only(tree(1.5)).ephemeral?.reuse.twReuseDelayMs).toBe(1000);
    expect(only(tree(1.5)).destination).toMatchObject({ used: 1, timeWait: 1, holdSeconds: 1 });
    expect(only(tree(0.5)).destination).toMatchObject({ used: 2, timeWait: 1, holdSeconds: 1 });
  });

  it('applies the loopback rule to ::1 and to IPv4-mapped loopback, not to other IPv6', () => {
    const tcp6 = [
      timeWait(IPV6_LOOPBACK, 40001, IPV6_LOOPBACK, 10),
      timeWait(ipv4Mapped(LOOPBACK), 40002, ipv4Mapped(LOOPBACK), 10),
      timeWait(IPV6_CLIENT, 40003, IPV6_SERVER, 10),
    ];
    const ephemeral = sample({ tcp6 }).sockets?.ephemeral;
    expect(ephemeral?.destinations).toEqual([
      {
        localAddress: 'fd00::2',
        remoteAddress: 'fd00::1',
        remotePort: 9000,
        used: 1,
        timeWait: 1,
        holdSeconds: 60,
      },
    ]);
    expect(ephemeral?.held).toBe(3);
  });

  it('ranks destinations by blocking sockets, not by TIME_WAIT held', () => {
    const tcp: KernelSocket[] = [];
    for (let i = 0; i < 5; i++) tcp.push(timeWait(LOOPBACK, 40001 + i, LOOPBACK, 10));
    tcp.push(socket(LOOPBACK, 40006, LOOPBACK, 9000, ESTABLISHED));
    for (let i = 0; i < 2; i++) tcp.push(socket(CLIENT, 40020 + i, SERVER, 443, ESTABLISHED));
    const ephemeral = sample({ tcp }).sockets?.ephemeral;
    expect(ephemeral?.usedMax).toBe(2);
    expect(ephemeral?.destinations.map((d) => [d.remotePort, d.used, d.timeWait])).toEqual([
      [443, 2, 0],
      [9000, 1, 5],
    ]);
    expect(ephemeral?.held).toBe(8);
  });

  it('counts held ports once whatever the destinations, leaving listening and reserved ones out', () => {
    const tcp = [
      socket(CLIENT, 40001, SERVER, 9000, ESTABLISHED),
      socket(CLIENT, 40001, SERVER, 9001, ESTABLISHED),
      timeWait(LOOPBACK, 40002, LOOPBACK, 10),
      socket(CLIENT, 40010, SERVER, 9000, ESTABLISHED), // reserved
      socket(ANY, 40030, ANY, 0, LISTEN),
      socket(SERVER, 40030, CLIENT, 50000, ESTABLISHED), // accepted on a listening port
    ];
    const ephemeral = sample({ tcp }).sockets?.ephemeral;
    expect(ephemeral?.held).toBe(2);
    expect(ephemeral?.usedMax).toBe(1);
  });

  it('leaves out inbound TIME_WAIT on a listening port, reusable or not', () => {
    const tcp = [
      socket(ANY, 40030, ANY, 0, LISTEN),
      timeWait(LOOPBACK, 40030, LOOPBACK, 10),
      timeWait(LOOPBACK, 40030, LOOPBACK_OTHER, 0.1),
    ];
    const ephemeral = sample({ tcp }).sockets?.ephemeral;
    expect(ephemeral?.destinationCount).toBe(0);
    expect(ephemeral?.held).toBe(0);
  });

  it('leaves the lowest port of an odd-sized range out of usable, as connect() skips it', () => {
    const range = (text: string) => ({
      'sys/net/ipv4/ip_local_port_range': text,
      'sys/net/ipv4/ip_local_reserved_ports': '\n',
    });
    expect(sample({ files: range('40000 40019\n') }).sockets?.ephemeral?.usable).toBe(20);
    expect(sample({ files: range('40000 40020\n') }).sockets?.ephemeral?.usable).toBe(20);
    const onLowest = sample({
      tcp: [socket(CLIENT, 40000, SERVER, 9000, ESTABLISHED)],
      files: range('40000 40020\n'),
    }).sockets?.ephemeral;
    expect([onLowest?.usedMax, onLowest?.held]).toEqual([0, 0]);
    expect(sample({ files: range('40000 40000\n') }).sockets?.ephemeral?.usable).toBe(1);
  });

  it('gives each listening port its longest accept queue, the rest summed up as the longest', () => {
    const listener = (port: number, rxQueue: number, local = ANY) =>
      socket(local, port, ANY, 0, LISTEN, { rxQueue });
    const tcp = [listener(80, 3), listener(80, 7, SERVER), listener(443, 2), listener(8080, 9)];
    const tcp6 = [socket(Array(16).fill(0), 443, Array(16).fill(0), 0, LISTEN, { rxQueue: 5 })];
    // Ties broken by port: 80 and 443 have no inbound sockets, neither has 8080.
    const queues = sample({ tcp, tcp6 }, { maxListenPorts: 2 }).sockets?.listenQueues;
    expect(queues).toEqual([
      { port: 80, length: 7 },
      { port: 443, length: 5 },
      { port: 'other', length: 9 },
    ]);
  });
});
