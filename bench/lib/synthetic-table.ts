/**
 * Synthetic /proc/net/tcp{,6} tables of any size in the kernel's exact line formats, for
 * a web host: listeners first, then inbound sockets on the service ports and outbound
 * sockets to a few upstreams, TIME_WAIT and ESTABLISHED mostly. Deterministic (seeded),
 * written in batches so a million lines never sit in memory as one string.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_COUNT, TCP_STATES, type TcpState } from '../../src/snapshot/model.js';
import {
  formatSocketLine,
  formatTable,
  ipv4Mapped,
  type KernelSocket,
} from '../../testkit/kernel/kernel-format.js';
import { writeProcfsTree } from '../../testkit/kernel/procfs-tree.js';

/** Relative weights of the non-listening states (CLOSE is never hashed, so never listed). */
const STATE_WEIGHTS: readonly (readonly [TcpState, number])[] = [
  ['established', 45],
  ['time_wait', 40],
  ['close_wait', 3],
  ['fin_wait2', 3],
  ['syn_recv', 2],
  ['fin_wait1', 2],
  ['last_ack', 2],
  ['syn_sent', 1],
  ['closing', 2],
];
const SERVICE_PORTS = [80, 443, 8080] as const;
const UPSTREAM_PORTS = [5432, 6379, 9000] as const;
const IPV6_SHARE = 1 / 3;
/** Of the IPv6 sockets, the share that are IPv4-mapped (dual-stack listeners). */
const MAPPED_SHARE = 1 / 4;
const BATCH_LINES = 20_000;

/** Family × state counts, ipv4 row then ipv6 row, state index = kernel code - 1. */
export type FamilyStateCounts = Uint32Array;

export interface SyntheticTable {
  readonly root: string;
  readonly sockets: number;
  readonly bytes: number;
  readonly counts: FamilyStateCounts;
}

/** mulberry32: small, fast and deterministic for a given seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickState(draw: number): number {
  const total = STATE_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  let left = draw * total;
  for (const [state, weight] of STATE_WEIGHTS) {
    left -= weight;
    if (left < 0) return TCP_STATES.indexOf(state) + 1;
  }
  return 1;
}

type Address = (index: number) => number[];

const v4 =
  (a: number, b: number): Address =>
  (index) => [198, 18, a, b + (index % 200)];
const v6 =
  (group: number): Address =>
  (index) => [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, group, 0, 0, (index >> 8) & 0xff, index & 0xff];
const mapped =
  (a: number, b: number): Address =>
  (index) =>
    ipv4Mapped(v4(a, b)(index));

/** One family's generator: listeners, then sockets drawn from the mix. */
function* familySockets(
  family: 'ipv4' | 'ipv6',
  count: number,
  seed: number,
): Generator<KernelSocket> {
  const next = random(seed);
  const anyAddress = new Array<number>(family === 'ipv4' ? 4 : 16).fill(0);
  for (const port of SERVICE_PORTS) {
    yield { local: anyAddress, localPort: port, remote: anyAddress, remotePort: 0, state: 10 };
  }
  let ephemeral = 32768;
  for (let index = SERVICE_PORTS.length; index < count; index++) {
    const isMapped = family === 'ipv6' && next() < MAPPED_SHARE;
    const host: Address =
      family === 'ipv4' || isMapped ? (isMapped ? mapped(0, 1) : v4(0, 1)) : v6(1);
    const peer: Address =
      family === 'ipv4' || isMapped ? (isMapped ? mapped(128, 1) : v4(128, 1)) : v6(2);
    const state = pickState(next());
    const peerIndex = Math.floor(next() * 50_000);
    // Every socket a program holds prints its inode (the stuck CLOSE_WAIT tracking reads it).
    const inode = 1_000_000 + index;
    if (next() < 0.5) {
      // Inbound: a client's ephemeral port toward one of our service ports.
      yield {
        local: host(0),
        localPort: SERVICE_PORTS[index % SERVICE_PORTS.length] as number,
        remote: peer(peerIndex),
        remotePort: 1024 + Math.floor(next() * 64_000),
        state,
        inode,
      };
    } else {
      // Outbound: our ephemeral port toward one of a few upstreams.
      ephemeral = ephemeral === 60999 ? 32768 : ephemeral + 1;
      yield {
        local: host(index % 4),
        localPort: ephemeral,
        remote: peer(index % 8),
        remotePort: UPSTREAM_PORTS[index % UPSTREAM_PORTS.length] as number,
        state,
        inode,
      };
    }
  }
}

function writeTable(
  path: string,
  family: 'ipv4' | 'ipv6',
  count: number,
  counts: FamilyStateCounts,
): number {
  const fd = openSync(path, 'w');
  const row = family === 'ipv4' ? 0 : STATE_COUNT;
  try {
    let bytes = writeSync(fd, formatTable(family, []));
    let batch: string[] = [];
    let slot = 0;
    for (const socket of familySockets(family, count, family === 'ipv4' ? 4 : 6)) {
      (counts[row + socket.state - 1] as number)++;
      batch.push(formatSocketLine(slot++, socket));
      if (batch.length === BATCH_LINES) {
        bytes += writeSync(fd, `${batch.join('\n')}\n`);
        batch = [];
      }
    }
    if (batch.length > 0) bytes += writeSync(fd, `${batch.join('\n')}\n`);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a whole procfs tree under `root` (the small files from procfs-tree.ts, so the
 * engine samples every source) whose tables hold `sockets` sockets over both families.
 */
export function writeSyntheticProcfs(root: string, sockets: number): SyntheticTable {
  writeProcfsTree(root);
  const counts: FamilyStateCounts = new Uint32Array(2 * STATE_COUNT);
  const ipv6 = Math.round(sockets * IPV6_SHARE);
  const ipv4 = sockets - ipv6;
  const bytes =
    writeTable(join(root, 'net/tcp'), 'ipv4', ipv4, counts) +
    writeTable(join(root, 'net/tcp6'), 'ipv6', ipv6, counts);
  return { root, sockets: counts.reduce((sum, count) => sum + count, 0), bytes, counts };
}
