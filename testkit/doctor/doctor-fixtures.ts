/**
 * The doctor fixture trees: for each finding one tree that triggers it and one that does
 * not, plus a healthy host. Counts derive from the thresholds so a tree sits just past or
 * just short of the line. Materialised under test/fixtures/doctor/<name>/ by
 * `npx tsx testkit/doctor/doctor-fixtures.ts`; a test checks the committed trees still match.
 *
 * Layout: <name>/proc is the tree at the second sample; <name>/proc-before, when present,
 * holds the counters at the first sample, FIXTURE_WINDOW_SECONDS earlier.
 */

import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONNECT_ERRORS_STREAM } from '../../src/collectors/connect-errors.js';
import { doctorSampleOptions } from '../../src/config/defaults.js';
import { FINDING_IDS, type FindingId, type Severity } from '../../src/doctor/finding.js';
import {
  BIND_FIRST_HELD_INFO_RATIO,
  CLIENT_TIME_WAIT_USABLE_SHARE,
  CLOSE_WAIT_WARNING,
  CONNTRACK_ENTRIES_WARNING_RATIO,
  EPHEMERAL_USE_CRITICAL_RATIO,
  EPHEMERAL_USE_WARNING_RATIO,
  FIN_TIMEOUT_DEFAULT_SECONDS,
  ORPHANS_WARNING_RATIO,
  PAWS_WARNING_PER_SECOND,
  SNAT_USE_WARNING_RATIO,
  SYN_COOKIES_WARNING_PER_SECOND,
  TIME_WAIT_BUCKETS_CRITICAL_RATIO,
  TIME_WAIT_BUCKETS_WARNING_RATIO,
  TW_REUSE_DELAY_DEFAULT_MS,
} from '../../src/doctor/thresholds.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import type { ConnectErrorCounts } from '../../src/sources/connect-errors.js';
import { sampleProcfs } from '../exporter/exporter-snapshots.js';
import { snatFlow } from '../kernel/conntrack-format.js';
import {
  type ProcfsSocketSpec,
  type ProcfsTreeSpec,
  writeProcfsTree,
} from '../kernel/procfs-tree.js';

export const DOCTOR_FIXTURES_DIR = fileURLToPath(
  new URL('../../test/fixtures/doctor/', import.meta.url),
);

/** Time between the two samples the proc-before/proc pairs stand for. */
export const FIXTURE_WINDOW_SECONDS = 2;

export interface DoctorCase {
  /** Directory under test/fixtures/doctor. */
  readonly name: string;
  readonly description: string;
  /** Findings that must appear, with the severity each must have. */
  readonly expected: Readonly<Partial<Record<FindingId, Severity>>>;
  /** Findings that must not appear. */
  readonly absent: readonly FindingId[];
  readonly tree: ProcfsTreeSpec;
  /** The tree at the first sample; without it both samples read `tree`. */
  readonly before?: ProcfsTreeSpec;
  /** --collector.snat.usable-ports for both samples: the NAT rules are the test host's, not the tree's. */
  readonly snatUsablePorts?: string;
  /**
   * Failures doctor counted from tracefs during the window, as the command adds them to the
   * second sample (no procfs file holds them; not written under test/fixtures).
   */
  readonly connectErrors?: ConnectErrorCounts;
}

/** A narrow range keeps the trees small: 100 usable ports. */
const SMALL_RANGE = { 'net.ipv4.ip_local_port_range': '40000 40099' };
const SMALL_USABLE = 100;
/** 1000 usable ports: the client TIME_WAIT threshold is then a tenth of that. */
const MEDIUM_RANGE = { 'net.ipv4.ip_local_port_range': '40000 40999' };
const MEDIUM_USABLE = 1000;
const CLIENT_THRESHOLD_MEDIUM = Math.ceil(MEDIUM_USABLE * CLIENT_TIME_WAIT_USABLE_SHARE);
const SMALL_CRITICAL_USE = Math.ceil(SMALL_USABLE * EPHEMERAL_USE_CRITICAL_RATIO);
const SMALL_WARNING_USE = Math.ceil(SMALL_USABLE * EPHEMERAL_USE_WARNING_RATIO);

const TW_LIMIT = 100;

/**
 * The host-wide sysctls /proc/sys shows only in the host's network namespace (kernel 6.18
 * defaults of a machine with 8 GiB): the trees that stand for a host have them.
 */
const HOST_SYSCTLS = {
  'net.ipv4.tcp_mem': '287892 383858 575784',
  'net.ipv4.tcp_max_orphans': 131072,
};

/**
 * ESTABLISHED connections to `destinations` backend ports, `each` per port, on distinct local
 * ports: many ports held, few per destination (a bind-first client's limit, not connect()'s).
 */
function spreadClientsTree(destinations: number, each: number): ProcfsTreeSpec {
  return {
    sysctls: SMALL_RANGE,
    sockets: Array.from({ length: destinations }, (_, index) => ({
      state: 'established' as const,
      local: `198.18.0.2:${40000 + index * each}`,
      remote: `198.18.0.1:${9001 + index}`,
      count: each,
    })),
  };
}
const BIND_FIRST_HELD = Math.ceil(SMALL_USABLE * BIND_FIRST_HELD_INFO_RATIO);

function outboundTimeWait(local: string, remote: string, count: number): ProcfsSocketSpec[] {
  return [{ state: 'time_wait', local: `${local}:40000`, remote, count }];
}

/** TIME_WAIT left on port 80 by `count` clients: there the server closed first. */
function inboundTimeWait(count: number): ProcfsSocketSpec {
  return {
    state: 'time_wait',
    local: '198.18.0.1:80',
    remote: '198.18.9.1:30000',
    count,
    vary: 'remote',
  };
}

/** A front end that serves port 80 and keeps a few connections to its backend open. */
const WEB_FRONT: readonly ProcfsSocketSpec[] = [
  { state: 'listen', local: '0.0.0.0:80' },
  { state: 'listen', local: '[::]:80' },
  { state: 'listen', local: '0.0.0.0:22' },
  {
    state: 'established',
    local: '198.18.0.1:80',
    remote: '198.18.7.9:51000',
    count: 5,
    vary: 'remote',
  },
  {
    state: 'established',
    local: '[::ffff:198.18.0.1]:80',
    remote: '[::ffff:198.18.7.10]:52000',
    count: 3,
    vary: 'remote',
  },
  { state: 'established', local: '198.18.0.1:22', remote: '198.18.7.11:53000' },
];

function withCounters(
  tree: ProcfsTreeSpec,
  netstat: Readonly<Record<string, number>>,
): ProcfsTreeSpec {
  return { ...tree, netstat: { ...tree.netstat, ...netstat } };
}

const listenOverflowBase: ProcfsTreeSpec = {
  sockets: [
    ...WEB_FRONT,
    {
      state: 'syn_recv',
      local: '198.18.0.1:80',
      remote: '198.18.8.1:50000',
      count: 4,
      vary: 'remote',
    },
  ],
  sysctls: { 'net.core.somaxconn': 128 },
};

const synFloodBase: ProcfsTreeSpec = { sockets: WEB_FRONT };
const cookieRise = Math.ceil(SYN_COOKIES_WARNING_PER_SECOND * FIXTURE_WINDOW_SECONDS) * 10;

const ORPHAN_LIMIT = 1000;
function orphansTree(orphans: number): ProcfsTreeSpec {
  return {
    sockets: WEB_FRONT,
    sysctls: { ...HOST_SYSCTLS, 'net.ipv4.tcp_max_orphans': ORPHAN_LIMIT },
    sockstat: { orphan: orphans },
  };
}

const CONNTRACK_LIMIT = 1000;
function conntrackTree(entries: number): ProcfsTreeSpec {
  return {
    sockets: WEB_FRONT,
    sysctls: { 'net.netfilter.nf_conntrack_max': CONNTRACK_LIMIT },
    conntrackEntries: entries,
  };
}

/** A masquerade of 100 ports: pods of 10.244.0.0/16 reaching one service through 198.18.2.1. */
export const SNAT_USABLE = 100;
export function snatTree(flows: number): ProcfsTreeSpec {
  return {
    sockets: WEB_FRONT,
    conntrackEntries: flows + 1,
    conntrackFlows: [
      { flow: snatFlow('10.244.1.5', 40000, '198.18.3.3', 443, '198.18.2.1', 50000), count: flows },
      // The node's own flow: its reply comes back to its own address and port, not NATed.
      {
        flow: {
          original: { src: '198.18.2.1', dst: '198.18.3.3', sport: 33000, dport: 443 },
          reply: { src: '198.18.3.3', dst: '198.18.2.1', sport: 443, dport: 33000 },
        },
      },
    ],
  };
}

const TCP_MEM_PAGES = { min: 1000, pressure: 2000, max: 3000 };
function tcpMemoryTree(pages: number): ProcfsTreeSpec {
  return {
    sockets: WEB_FRONT,
    sysctls: {
      ...HOST_SYSCTLS,
      'net.ipv4.tcp_mem': `${TCP_MEM_PAGES.min} ${TCP_MEM_PAGES.pressure} ${TCP_MEM_PAGES.max}`,
    },
    sockstat: { mem: pages },
  };
}

const pawsBase: ProcfsTreeSpec = { sockets: WEB_FRONT };
const pawsRise = Math.ceil(PAWS_WARNING_PER_SECOND * FIXTURE_WINDOW_SECONDS) * 5;

/** Inbound TIME_WAIT against tcp_max_tw_buckets=TW_LIMIT. */
function timeWaitBucketsTree(timeWaitCount: number): ProcfsTreeSpec {
  return {
    sysctls: { 'net.ipv4.tcp_max_tw_buckets': TW_LIMIT },
    sockets: [...WEB_FRONT, inboundTimeWait(timeWaitCount)],
  };
}

const overflowBase = timeWaitBucketsTree(TW_LIMIT);

/** Listeners on 45000 and 40100, inside the default range 32768-60999. */
function listenersInRangeTree(reservedPorts: string): ProcfsTreeSpec {
  return {
    sysctls: { 'net.ipv4.ip_local_reserved_ports': reservedPorts },
    sockets: [
      ...WEB_FRONT,
      { state: 'listen', local: '[::]:45000' },
      { state: 'listen', local: '127.0.0.1:40100' },
    ],
  };
}

/** A service on 8080 holding `count` inbound CLOSE_WAIT. */
function closeWaitTree(count: number): ProcfsTreeSpec {
  return {
    sockets: [
      ...WEB_FRONT,
      { state: 'listen', local: '0.0.0.0:8080' },
      {
        state: 'close_wait',
        local: '198.18.0.1:8080',
        remote: '198.18.6.1:42000',
        count,
        vary: 'remote',
      },
    ],
  };
}

/** What doctor counted in its own namespace: `count` failed connect() calls, none lost. */
function countedFailures(count: number): ConnectErrorCounts {
  const series = {
    syscall: 'connect',
    errno: 'EADDRNOTAVAIL',
    netns: '4026531840',
    pod: '',
    namespace: '',
    container: '',
    count,
  } as const;
  return { series: count === 0 ? [] : [series], lostEvents: 0, pollSeconds: 0 };
}

export const DOCTOR_CASES: readonly DoctorCase[] = [
  {
    name: 'healthy',
    description: 'A web front end with a few connections and default sysctls: nothing to report.',
    expected: {},
    absent: FINDING_IDS,
    tree: {
      sockets: WEB_FRONT,
      sysctls: HOST_SYSCTLS,
      netstat: { TW: 1234, PAWSEstab: 3, ListenOverflows: 7, ListenDrops: 7 },
    },
  },
  {
    name: 'ephemeral-headroom-low.trigger',
    description: 'One destination holds 80 % of 100 usable ports (TIME_WAIT and ESTABLISHED).',
    expected: { 'ephemeral-headroom-low': 'critical' },
    absent: [],
    tree: {
      sysctls: SMALL_RANGE,
      sockets: [
        ...outboundTimeWait('198.18.0.2', '198.18.0.1:8080', SMALL_CRITICAL_USE - 2),
        { state: 'established', local: '198.18.0.2:40090', remote: '198.18.0.1:8080', count: 2 },
      ],
    },
  },
  {
    name: 'ephemeral-headroom-low.quiet',
    description:
      'Just under half the usable ports toward one destination, and other destinations beside it.',
    expected: {},
    absent: ['ephemeral-headroom-low'],
    tree: {
      sysctls: SMALL_RANGE,
      sockets: [
        ...outboundTimeWait('198.18.0.2', '198.18.0.1:8080', SMALL_WARNING_USE - 1),
        ...outboundTimeWait('198.18.0.2', '198.18.0.3:8080', SMALL_WARNING_USE - 1),
      ],
    },
  },
  {
    name: 'listener-in-ephemeral-range.trigger',
    description: 'Listeners on 45000 (not reserved) and 40100 (reserved) inside 32768-60999.',
    expected: { 'listener-in-ephemeral-range': 'warning' },
    absent: [],
    tree: listenersInRangeTree('40100'),
  },
  {
    name: 'listener-in-ephemeral-range.quiet',
    description: 'The same listeners with both ports reserved.',
    expected: {},
    absent: ['listener-in-ephemeral-range'],
    tree: listenersInRangeTree('40100,45000'),
  },
  {
    name: 'port-range-parity.trigger',
    description: 'ip_local_port_range 1024 65000: both ends even, 63977 ports.',
    expected: { 'port-range-parity': 'info' },
    absent: [],
    tree: { sockets: WEB_FRONT, sysctls: { 'net.ipv4.ip_local_port_range': '1024 65000' } },
  },
  {
    name: 'port-range-parity.quiet',
    description: 'ip_local_port_range 1024 65001: ends of different parity.',
    expected: {},
    absent: ['port-range-parity'],
    tree: { sockets: WEB_FRONT, sysctls: { 'net.ipv4.ip_local_port_range': '1024 65001' } },
  },
  {
    name: 'time-wait-near-bucket-limit.trigger',
    description: 'Inbound TIME_WAIT at 96 % of tcp_max_tw_buckets=100.',
    expected: { 'time-wait-near-bucket-limit': 'critical' },
    absent: ['client-side-time-wait'],
    tree: timeWaitBucketsTree(Math.ceil(TW_LIMIT * TIME_WAIT_BUCKETS_CRITICAL_RATIO) + 1),
  },
  {
    name: 'time-wait-near-bucket-limit.quiet',
    description: 'Inbound TIME_WAIT just under three quarters of the limit.',
    expected: {},
    absent: ['time-wait-near-bucket-limit'],
    tree: timeWaitBucketsTree(Math.ceil(TW_LIMIT * TIME_WAIT_BUCKETS_WARNING_RATIO) - 1),
  },
  {
    name: 'time-wait-overflow.trigger',
    description: 'TIME_WAIT at the limit and TCPTimeWaitOverflow rising by 250 in the window.',
    expected: { 'time-wait-overflow': 'warning' },
    absent: [],
    before: withCounters(overflowBase, { TCPTimeWaitOverflow: 1200 }),
    tree: withCounters(overflowBase, { TCPTimeWaitOverflow: 1450 }),
  },
  {
    name: 'time-wait-overflow.quiet',
    description: 'Overflows happened since boot but none during the window.',
    expected: {},
    absent: ['time-wait-overflow'],
    before: withCounters(overflowBase, { TCPTimeWaitOverflow: 1200 }),
    tree: withCounters(overflowBase, { TCPTimeWaitOverflow: 1200 }),
  },
  {
    name: 'bind-first-ports-low.trigger',
    description: `Half the 100 usable ports held by ESTABLISHED connections spread over ${BIND_FIRST_HELD / 5} backend ports: plain connect() has room, a bind-first client does not.`,
    expected: { 'bind-first-ports-low': 'info' },
    absent: ['ephemeral-headroom-low'],
    tree: spreadClientsTree(BIND_FIRST_HELD / 5, 5),
  },
  {
    name: 'bind-first-ports-low.quiet',
    description: 'One port fewer than half the usable ports held.',
    expected: {},
    absent: ['bind-first-ports-low'],
    tree: spreadClientsTree(7, 7),
  },
  {
    name: 'client-side-time-wait.trigger',
    description:
      'nginx-like front end closing its FastCGI connections to a local php-fpm on 127.0.0.1:9000; tcp_tw_reuse=2 makes that TIME_WAIT reusable, so it is info, not a port shortage.',
    expected: { 'client-side-time-wait': 'info' },
    absent: ['ephemeral-headroom-low', 'tw-reuse-off'],
    tree: {
      sysctls: MEDIUM_RANGE,
      sockets: [
        ...WEB_FRONT,
        { state: 'listen', local: '127.0.0.1:9000' },
        ...outboundTimeWait('127.0.0.1', '127.0.0.1:9000', CLIENT_THRESHOLD_MEDIUM + 20),
      ],
    },
  },
  {
    name: 'client-side-time-wait.quiet',
    description:
      'Few outbound TIME_WAIT; many inbound ones on port 80, where the server closed first.',
    expected: {},
    absent: ['client-side-time-wait'],
    tree: {
      sysctls: MEDIUM_RANGE,
      sockets: [
        ...WEB_FRONT,
        { state: 'listen', local: '127.0.0.1:9000' },
        ...outboundTimeWait('127.0.0.1', '127.0.0.1:9000', CLIENT_THRESHOLD_MEDIUM - 1),
        inboundTimeWait(CLIENT_THRESHOLD_MEDIUM * 3),
      ],
    },
  },
  {
    name: 'tw-reuse-off.trigger',
    description: 'tcp_tw_reuse=2 (loopback only) while TIME_WAIT builds toward a remote upstream.',
    expected: { 'tw-reuse-off': 'info', 'client-side-time-wait': 'warning' },
    absent: [],
    tree: {
      sysctls: { ...MEDIUM_RANGE, 'net.ipv4.tcp_tw_reuse': 2 },
      sockets: [
        ...WEB_FRONT,
        ...outboundTimeWait('198.18.0.1', '198.18.5.5:8080', CLIENT_THRESHOLD_MEDIUM + 20),
      ],
    },
  },
  {
    name: 'tw-reuse-off.quiet',
    description:
      'The same pressure toward a loopback upstream, which tcp_tw_reuse=2 already covers: its TIME_WAIT is reusable.',
    expected: { 'client-side-time-wait': 'info' },
    absent: ['tw-reuse-off'],
    tree: {
      sysctls: { ...MEDIUM_RANGE, 'net.ipv4.tcp_tw_reuse': 2 },
      sockets: [
        ...WEB_FRONT,
        { state: 'listen', local: '127.0.0.1:8080' },
        ...outboundTimeWait('127.0.0.1', '127.0.0.1:8080', CLIENT_THRESHOLD_MEDIUM + 20),
      ],
    },
  },
  {
    name: 'tw-reuse-delay-short.trigger',
    description:
      'tcp_tw_reuse_delay 1 ms under its default, with loopback reuse on (tcp_tw_reuse=2).',
    expected: { 'tw-reuse-delay-short': 'info' },
    absent: [],
    tree: {
      sockets: WEB_FRONT,
      sysctls: { 'net.ipv4.tcp_tw_reuse_delay': TW_REUSE_DELAY_DEFAULT_MS - 1 },
    },
  },
  {
    name: 'tw-reuse-delay-short.quiet',
    description: 'The same short delay with tcp_tw_reuse=0: no TIME_WAIT is reused at all.',
    expected: {},
    absent: ['tw-reuse-delay-short'],
    tree: {
      sockets: WEB_FRONT,
      sysctls: {
        'net.ipv4.tcp_tw_reuse_delay': TW_REUSE_DELAY_DEFAULT_MS - 1,
        'net.ipv4.tcp_tw_reuse': 0,
      },
    },
  },
  {
    name: 'timestamps-off.trigger',
    description: 'tcp_timestamps=0.',
    expected: { 'timestamps-off': 'warning' },
    absent: [],
    tree: { sockets: WEB_FRONT, sysctls: { 'net.ipv4.tcp_timestamps': 0 } },
  },
  {
    name: 'timestamps-off.quiet',
    description: 'tcp_timestamps=2 (on, without per-connection offsets).',
    expected: {},
    absent: ['timestamps-off'],
    tree: { sockets: WEB_FRONT, sysctls: { 'net.ipv4.tcp_timestamps': 2 } },
  },
  {
    name: 'folklore-sysctls.trigger',
    description:
      'Folklore applied on a pre-4.12 kernel: tcp_tw_recycle=1, tcp_fin_timeout 1 s under its default, tcp_max_tw_buckets 5000 under half the established hash.',
    expected: { 'folklore-sysctls': 'warning' },
    absent: [],
    tree: {
      sockets: WEB_FRONT,
      sysctls: {
        'net.ipv4.tcp_tw_recycle': 1,
        'net.ipv4.tcp_fin_timeout': FIN_TIMEOUT_DEFAULT_SECONDS - 1,
        'net.ipv4.tcp_ehash_entries': 262144,
        'net.ipv4.tcp_max_tw_buckets': 5000,
      },
    },
  },
  {
    name: 'folklore-sysctls.quiet',
    description:
      'The defaults, tcp_tw_recycle present and off, in a namespace sharing the host hash (negative ehash entries).',
    expected: {},
    absent: ['folklore-sysctls'],
    tree: {
      sockets: WEB_FRONT,
      sysctls: {
        'net.ipv4.tcp_tw_recycle': 0,
        'net.ipv4.tcp_fin_timeout': FIN_TIMEOUT_DEFAULT_SECONDS,
        'net.ipv4.tcp_ehash_entries': -262144,
        'net.ipv4.tcp_max_tw_buckets': 131072,
      },
    },
  },
  {
    name: 'linger-zero-aborts.trigger',
    description: 'TCPAbortOnData rising by 6 in the window: connections reset at close().',
    expected: { 'linger-zero-aborts': 'info' },
    absent: [],
    before: withCounters({ sockets: WEB_FRONT }, { TCPAbortOnData: 10 }),
    tree: withCounters({ sockets: WEB_FRONT }, { TCPAbortOnData: 16 }),
  },
  {
    name: 'linger-zero-aborts.quiet',
    description: 'TCPAbortOnData since boot, none during the window.',
    expected: {},
    absent: ['linger-zero-aborts'],
    before: withCounters({ sockets: WEB_FRONT }, { TCPAbortOnData: 10 }),
    tree: withCounters({ sockets: WEB_FRONT }, { TCPAbortOnData: 10 }),
  },
  {
    name: 'close-wait-accumulating.trigger',
    description: 'Inbound CLOSE_WAIT on port 8080 in both samples: the service does not close.',
    expected: { 'close-wait-accumulating': 'warning' },
    absent: [],
    tree: closeWaitTree(CLOSE_WAIT_WARNING + 10),
  },
  {
    name: 'close-wait-accumulating.quiet',
    description: 'A few CLOSE_WAIT between the peer closing and the service closing.',
    expected: {},
    absent: ['close-wait-accumulating'],
    tree: closeWaitTree(CLOSE_WAIT_WARNING - 1),
  },
  {
    name: 'listen-overflows.trigger',
    description: 'ListenOverflows and ListenDrops rise by 32 with somaxconn=128.',
    expected: { 'listen-overflows': 'warning' },
    absent: [],
    before: withCounters(listenOverflowBase, { ListenOverflows: 10, ListenDrops: 10 }),
    tree: withCounters(listenOverflowBase, { ListenOverflows: 42, ListenDrops: 42 }),
  },
  {
    name: 'listen-overflows.quiet',
    description: 'Overflows since boot, none during the window.',
    expected: {},
    absent: ['listen-overflows'],
    before: withCounters(listenOverflowBase, { ListenOverflows: 42, ListenDrops: 42 }),
    tree: withCounters(listenOverflowBase, { ListenOverflows: 42, ListenDrops: 42 }),
  },
  {
    name: 'paws-rejects.trigger',
    description: 'PAWSEstab rising at several per second.',
    expected: { 'paws-rejects': 'warning' },
    absent: [],
    before: withCounters(pawsBase, { PAWSEstab: 100, PAWSActive: 4 }),
    tree: withCounters(pawsBase, { PAWSEstab: 100 + pawsRise, PAWSActive: 4 }),
  },
  {
    name: 'paws-rejects.quiet',
    description: 'PAWS rejects since boot, none during the window.',
    expected: {},
    absent: ['paws-rejects'],
    before: withCounters(pawsBase, { PAWSEstab: 100, PAWSActive: 4 }),
    tree: withCounters(pawsBase, { PAWSEstab: 100, PAWSActive: 4 }),
  },
  {
    name: 'syn-queue-overflow.trigger',
    description: 'SYN cookies sent for a full SYN queue at several per second.',
    expected: { 'syn-queue-overflow': 'warning' },
    absent: [],
    before: withCounters(synFloodBase, { TCPReqQFullDoCookies: 40, SyncookiesSent: 40 }),
    tree: withCounters(synFloodBase, {
      TCPReqQFullDoCookies: 40 + cookieRise,
      SyncookiesSent: 40 + cookieRise,
    }),
  },
  {
    name: 'syn-queue-overflow.quiet',
    description: 'SYN cookies since boot, none during the window.',
    expected: {},
    absent: ['syn-queue-overflow'],
    before: withCounters(synFloodBase, { TCPReqQFullDoCookies: 40, SyncookiesSent: 40 }),
    tree: withCounters(synFloodBase, { TCPReqQFullDoCookies: 40, SyncookiesSent: 40 }),
  },
  {
    name: 'orphans-near-limit.trigger',
    description: 'Orphans at half of tcp_max_orphans=1000 (host namespace).',
    expected: { 'orphans-near-limit': 'warning' },
    absent: [],
    tree: orphansTree(Math.ceil(ORPHAN_LIMIT * ORPHANS_WARNING_RATIO)),
  },
  {
    name: 'orphans-near-limit.quiet',
    description: 'One orphan fewer.',
    expected: {},
    absent: ['orphans-near-limit'],
    tree: orphansTree(Math.ceil(ORPHAN_LIMIT * ORPHANS_WARNING_RATIO) - 1),
  },
  {
    name: 'conntrack-near-full.trigger',
    description: 'Conntrack entries at three quarters of nf_conntrack_max=1000.',
    expected: { 'conntrack-near-full': 'warning' },
    absent: [],
    tree: conntrackTree(Math.ceil(CONNTRACK_LIMIT * CONNTRACK_ENTRIES_WARNING_RATIO)),
  },
  {
    name: 'conntrack-near-full.quiet',
    description: 'One entry fewer.',
    expected: {},
    absent: ['conntrack-near-full'],
    tree: conntrackTree(Math.ceil(CONNTRACK_LIMIT * CONNTRACK_ENTRIES_WARNING_RATIO) - 1),
  },
  {
    name: 'snat-ports-low.trigger',
    description: `Pod flows to one destination holding half of ${SNAT_USABLE} NAT ports.`,
    expected: { 'snat-ports-low': 'warning' },
    absent: [],
    tree: snatTree(Math.ceil(SNAT_USABLE * SNAT_USE_WARNING_RATIO)),
    snatUsablePorts: String(SNAT_USABLE),
  },
  {
    name: 'snat-ports-low.quiet',
    description: 'One flow fewer.',
    expected: {},
    absent: ['snat-ports-low'],
    tree: snatTree(Math.ceil(SNAT_USABLE * SNAT_USE_WARNING_RATIO) - 1),
    snatUsablePorts: String(SNAT_USABLE),
  },
  {
    name: 'connect-failures-counted.trigger',
    description:
      'A web front end whose client failed 5 connect() calls with EADDRNOTAVAIL during the window.',
    expected: { 'connect-failures-counted': 'critical' },
    absent: [],
    tree: { sockets: WEB_FRONT, sysctls: HOST_SYSCTLS },
    connectErrors: countedFailures(5),
  },
  {
    name: 'connect-failures-counted.quiet',
    description: 'The same, traced over the window, with no failure.',
    expected: {},
    absent: ['connect-failures-counted'],
    tree: { sockets: WEB_FRONT, sysctls: HOST_SYSCTLS },
    connectErrors: countedFailures(0),
  },
  {
    name: 'tcp-memory-pressure.trigger',
    description: 'sockstat mem at the tcp_mem pressure value.',
    expected: { 'tcp-memory-pressure': 'warning' },
    absent: [],
    tree: tcpMemoryTree(TCP_MEM_PAGES.pressure),
  },
  {
    name: 'tcp-memory-pressure.quiet',
    description: 'sockstat mem one page under the pressure value.',
    expected: {},
    absent: ['tcp-memory-pressure'],
    tree: tcpMemoryTree(TCP_MEM_PAGES.pressure - 1),
  },
];

/** The cases with a proc-before tree: those whose counters rise over the window. */
export const COUNTER_CASES = DOCTOR_CASES.filter((testCase) => testCase.before !== undefined);

export function doctorCase(name: string): DoctorCase {
  const found = DOCTOR_CASES.find((testCase) => testCase.name === name);
  if (found === undefined) throw new Error(`no doctor case ${name}`);
  return found;
}

export interface CaseDirs {
  /** The tree at the second sample. */
  readonly proc: string;
  /** The tree at the first sample: proc-before when the case has one, else proc. */
  readonly procBefore: string;
}

export function caseDirs(root: string, testCase: DoctorCase): CaseDirs {
  const proc = join(root, testCase.name, 'proc');
  return {
    proc,
    procBefore: testCase.before === undefined ? proc : join(root, testCase.name, 'proc-before'),
  };
}

/** A case's two samples, taken from its committed trees: proc-before (or proc again) and proc. */
export function sampleCase(testCase: DoctorCase): { first: Snapshot; second: Snapshot } {
  const dirs = caseDirs(DOCTOR_FIXTURES_DIR, testCase);
  const second = sampleProcfs(doctorSampleOptions(dirs.proc, testCase.snatUsablePorts));
  return {
    first: sampleProcfs(doctorSampleOptions(dirs.procBefore, testCase.snatUsablePorts)),
    second:
      testCase.connectErrors === undefined
        ? second
        : {
            ...second,
            scheduled: {
              [CONNECT_ERRORS_STREAM.name]: {
                atMs: second.timestampMs,
                result: testCase.connectErrors,
              },
            },
          },
  };
}

/** Writes every case's trees under `root` (replacing what was there). */
export function writeDoctorFixtures(root: string): void {
  for (const testCase of DOCTOR_CASES) {
    rmSync(join(root, testCase.name), { recursive: true, force: true });
    const dirs = caseDirs(root, testCase);
    writeProcfsTree(dirs.proc, testCase.tree);
    if (testCase.before !== undefined) writeProcfsTree(dirs.procBefore, testCase.before);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeDoctorFixtures(DOCTOR_FIXTURES_DIR);
  console.log(`wrote ${DOCTOR_CASES.length} doctor fixture trees under ${DOCTOR_FIXTURES_DIR}`);
}
