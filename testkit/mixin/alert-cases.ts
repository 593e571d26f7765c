/**
 * `promtool test rules` cases. Every alert has a firing case (with the exact labels and
 * description an operator would receive), a quiet case just short of its threshold, and the
 * cases that make alerts lose outages or page for noise in real fleets: an input that flaps
 * across the threshold from one scrape to the next, a burst shorter than `for`, an idle host,
 * a restart or counter reset, a series the rule needs being absent, and several exporters at
 * once (generated from the firing and quiet cases). Series use a 1 minute step; values are in
 * promtool's expanding notation.
 */

import { INSTANCE, POD, POD_LABELS, POD_OWNER, TARGET } from './case-target.js';
import { CONNECT_ERROR_SCENARIOS } from './connect-errors-alert-cases.js';
import { CONNTRACK_SCENARIOS } from './conntrack-alert-cases.js';
import { COUNTER_SCENARIOS } from './counter-alert-cases.js';

export interface ExpectedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
}

/** What a case shows; every alert needs one of each. */
export const CASE_KINDS = [
  'firing',
  'quiet',
  'flapping',
  'burst',
  'idle',
  'reset',
  'absent',
  'multi-instance',
] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

export interface AlertCase {
  readonly name: string;
  readonly alert: string;
  readonly kind: CaseKind;
  readonly series: Readonly<Record<string, string>>;
  readonly evalTime: string;
  /** Empty: the alert must not be firing at evalTime. */
  readonly expected: readonly ExpectedAlert[];
}

export interface Scenario {
  readonly name: string;
  readonly series: Readonly<Record<string, string>>;
  readonly expected?: readonly ExpectedAlert[];
}

export interface AlertScenarios {
  readonly alert: string;
  readonly evalTime: string;
  /** On web-1; the multi-instance case repeats it on web-2 beside web-3 in the quiet case. */
  readonly firing: Scenario & { readonly expected: readonly ExpectedAlert[] };
  readonly quiet: Scenario;
  readonly idle: Scenario;
  readonly reset: Scenario;
  readonly absent: Scenario;
  /** At the threshold and just short of it by turns: a real condition must stay held. */
  readonly flapping: Scenario;
  /** Past the threshold for less than `for`: noise must stay quiet. */
  readonly burst: Scenario;
  /** Replaces the generated multi-instance case where relabelling cannot express it. */
  readonly multiInstance?: Scenario;
  /** More cases of any kind (a second severity, a falling trend...). */
  readonly more?: readonly (Scenario & { readonly kind: CaseKind })[];
}

const TARGET_LABELS = { job: 'tcpstate', instance: INSTANCE } as const;
const DESTINATION = 'local_address="10.0.0.5",remote_address="10.0.0.9",remote_port="9000"';
const DESTINATION_LABELS = {
  local_address: '10.0.0.5',
  remote_address: '10.0.0.9',
  remote_port: '9000',
} as const;
const USED = `tcpstate_ephemeral_ports_used{${TARGET},${DESTINATION}}`;
const USABLE = `tcpstate_ephemeral_ports_usable{${TARGET}}`;
const HEADROOM = `tcpstate_ephemeral_port_headroom_ratio{${TARGET}}`;
const HELD = `tcpstate_ephemeral_ports_held{${TARGET}}`;
const USED_MAX = `tcpstate_ephemeral_ports_used_max{${TARGET}}`;
const sysctl = (name: string): string => `tcpstate_sysctl{${TARGET},name="${name}"}`;
const TIME_WAIT_V4 = `tcpstate_sockets{${TARGET},family="ipv4",state="time_wait"}`;
const ESTABLISHED_V4 = `tcpstate_sockets{${TARGET},family="ipv4",state="established"}`;
const BUCKETS = sysctl('net.ipv4.tcp_max_tw_buckets');
const QUEUE_LENGTH = `tcpstate_listen_queue_length{${TARGET},port="8080"}`;
const OVERFLOWS = `tcpstate_listen_overflows_total{${TARGET}}`;
const ORPHANS = `tcpstate_sockstat_sockets{${TARGET},family="ipv4",kind="orphan"}`;
const MAX_ORPHANS = sysctl('net.ipv4.tcp_max_orphans');
const MEM_PAGES = `tcpstate_sockstat_memory_pages{${TARGET}}`;
const MEM_PRESSURE = sysctl('net.ipv4.tcp_mem.pressure');
const MEM_MAX = sysctl('net.ipv4.tcp_mem.max');
const counter = (name: string, labels = ''): string =>
  `${name}{${TARGET}${labels === '' ? '' : `,${labels}`}}`;
const SOCKSTAT_TW = `tcpstate_sockstat_sockets{${TARGET},family="ipv4",kind="tw"}`;
const COOKIES = counter('tcpstate_syncookies_sent_total');
const SYNCOOKIES = sysctl('net.ipv4.tcp_syncookies');
const ABORTS = counter('tcpstate_memory_aborts_total');
const STUCK_IN = `tcpstate_close_wait_stuck_sockets{${TARGET},direction="inbound",port="9000"}`;
const STUCK_OTHER = `tcpstate_close_wait_stuck_sockets{${TARGET},direction="outbound",port="other"}`;
const POOL_CLOSE_WAIT = `tcpstate_remote_port_sockets{${TARGET},port="5432",state="close_wait"}`;
const SYN_SENT = `tcpstate_remote_port_sockets{${TARGET},port="5432",state="syn_sent"}`;
const SYN_SENT_OTHER = `tcpstate_remote_port_sockets{${TARGET},port="other",state="syn_sent"}`;
const COLLECTOR = (name: string): string =>
  `tcpstate_collector_success{${TARGET},collector="${name}"}`;
const LAST_SAMPLE = `tcpstate_last_sample_timestamp_seconds{${TARGET}}`;
const MALFORMED = (file: string): string =>
  `tcpstate_malformed_lines_total{${TARGET},file="${file}"}`;
const INTERVAL = `tcpstate_sample_interval_seconds{${TARGET}}`;

const POD_USED = `tcpstate_ephemeral_ports_used{${TARGET},${POD},${DESTINATION}}`;
const POD_USABLE = `tcpstate_ephemeral_ports_usable{${TARGET},${POD}}`;
const POD_HEADROOM = `tcpstate_ephemeral_port_headroom_ratio{${TARGET},${POD}}`;
const POD_OVERFLOWS = `tcpstate_timewait_overflows_total{${TARGET},${POD}}`;
const POD_LISTEN_OVERFLOWS = `tcpstate_listen_overflows_total{${TARGET},${POD}}`;
const netnsInfo = (labels: string): string =>
  `tcpstate_netns_info{${TARGET},${labels},process="php-fpm"}`;
const POD_INFO = netnsInfo(POD);
/** A second pod on the same host. */
const OTHER_POD = 'netns="4026532305",pod="api-5c6d7-q8w9e",namespace="shop",container="api"';
/** The node's own namespace with --collector.netns: its inode, no owner (empty labels drop). */
const HOST_NETNS = 'netns="4026531840"';
const HOST_LABELS = { netns: '4026531840' } as const;
const LAST_ROUND = `tcpstate_netns_last_round_timestamp_seconds{${TARGET}}`;
/** Plain Docker: no pod, the short container ID (Prometheus drops the empty labels). */
const CONTAINER = 'netns="4026532302",container="3f2a9c1b7d4e"';
const assumed = (netns: string): string => `tcpstate_sysctls_assumed{${TARGET},netns="${netns}"}`;
const NAMESPACES = (outcome: string): string =>
  `tcpstate_netns_namespaces{${TARGET},outcome="${outcome}"}`;

const warning = (extra: Readonly<Record<string, string>> = {}) => ({
  severity: 'warning',
  ...TARGET_LABELS,
  ...extra,
});
const critical = (extra: Readonly<Record<string, string>> = {}) => ({
  severity: 'critical',
  ...TARGET_LABELS,
  ...extra,
});

const info = () => ({ severity: 'info', ...TARGET_LABELS });

/** `count` samples, `a` and `b` by turns: a figure flapping across a threshold each scrape. */
function alternate(a: number, b: number, count: number): string {
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? a : b)).join(' ');
}

/** A counter that rises by `step` every other sample. */
function everyOther(step: number, count: number): string {
  return Array.from({ length: count }, (_, i) => Math.floor(i / 2) * step).join(' ');
}

const DESTINATION_TEXT = '10.0.0.9 port 9000 (from local address 10.0.0.5)';
const REUSE_NOTE = '(TIME_WAIT that tcp_tw_reuse can take over is not counted)';

const exhaustedDescription = (usable: number, where = INSTANCE): string =>
  `${where}: all ${usable} usable ephemeral ports toward ${DESTINATION_TEXT} are held by sockets that block ` +
  `connect() to it ${REUSE_NOTE}. New connect() calls to this destination fail with EADDRNOTAVAIL ` +
  '("Cannot assign requested address") and proxies answer 502.';
const nearlyExhaustedDescription = (share: string, where = INSTANCE): string =>
  `${where}: up to ${share} of the 1000 usable ephemeral ports toward ${DESTINATION_TEXT} were held by ` +
  `sockets that block connect() to it ${REUSE_NOTE} in the last 2m. A burst of new connections exhausts the ` +
  'rest, and then connect() to this destination fails with EADDRNOTAVAIL.';
const heldDescription = (share: string): string =>
  `web-1:10120: up to ${share} of its 1000 usable ephemeral ports are held by some socket. A client that binds ` +
  'its local address before connect() (Go Dialer.LocalAddr, Java bind(addr, 0), Python source_address) needs ' +
  'a port free toward every destination at once, and fails with EADDRINUSE when none is.';
const droppedDescription = (dropped: string): string =>
  `The exporter on web-1:10120 leaves ${dropped} network namespaces out, beyond the 100 it exports ` +
  '(--collector.netns.max, those with the most sockets first): their pods have no per-pod series and no alerts.';
const bucketsDescription = (share: string): string =>
  `web-1:10120 holds up to ${share} of net.ipv4.tcp_max_tw_buckets (8000) in TIME_WAIT (sockstat tw, the ` +
  'count the kernel compares with the limit). Above the limit the kernel closes new connections without ' +
  'TIME_WAIT: their ports are free at once, but late segments are no longer caught.';
const overflowDescription = (dropped: string, where = INSTANCE): string =>
  `${where} dropped ${dropped} TIME_WAIT sockets in the last 5m because net.ipv4.tcp_max_tw_buckets was ` +
  'reached. Those connections lose their TIME_WAIT guard: late segments can reach a new connection on the ' +
  'same ports.';
const listenDescription = (rate: string, where = INSTANCE): string =>
  `${where} drops ${rate} incoming connections/s because the accept queue of a listening socket is full: ` +
  'the application does not accept() fast enough or its backlog is too small.';
const queueFullDescription = (waiting: string, port: string): string =>
  `web-1:10120: at least ${waiting} connections waited at every sample of the last 5m in the accept queue of ` +
  `port ${port}, the longest such queue, while the same network namespace drops connections at full accept queues: that ` +
  'program does not accept() in time, or its backlog is too small.';
const synQueueDescription = (rate: string): string =>
  `web-1:10120 drops ${rate} SYNs/s because a listener’s SYN queue is full and no SYN cookie was sent ` +
  '(net.ipv4.tcp_syncookies off, or the queue is full of cookies too). Clients retry after a second or more, ' +
  'or fail.';
const cookiesDescription = (rate: string): string =>
  `web-1:10120 sends ${rate} SYN cookies/s, over 3 times its rate of the last 6h: a listener’s SYN queue is ` +
  'full, from a SYN flood or a backlog too small for the load. Connections still open, but without the TCP ' +
  'options a cookie cannot carry when timestamps are off.';
const orphansDescription = (share: string, limit: string): string =>
  'web-1:10120 holds orphaned sockets (closed by their program, still closing in TCP) at up to ' +
  `${share} of net.ipv4.tcp_max_orphans (${limit}). The kernel weighs an orphan that stopped sending, or has ` +
  'a soft error, double (both: four times), so it resets such connections from a quarter of the limit on ' +
  '("too many orphaned sockets"), and more of them from half.';
const MEMORY_PRESSURE_DESCRIPTION =
  'web-1:10120: TCP memory is at the pressure level of net.ipv4.tcp_mem (host-wide), or TCP entered memory ' +
  'pressure 2 times or more in 15m, for 5m. The kernel shrinks socket buffers, so throughput falls.';
const MEMORY_EXHAUSTED_DESCRIPTION =
  'web-1:10120: TCP buffers reached net.ipv4.tcp_mem’s maximum (host-wide). The kernel drops incoming data ' +
  'and aborts connections it cannot give memory to.';
const UNUSABLE_DESCRIPTION =
  'web-1:10120 had no usable ephemeral port in the last 2m: net.ipv4.ip_local_reserved_ports covers the whole ' +
  'net.ipv4.ip_local_port_range. Every connect() that does not bind a port first fails with EADDRNOTAVAIL.';
const abortsDescription = (rate: string): string =>
  `web-1:10120 aborts ${rate} connections/s (TCPAbortOnMemory): TCP memory ran short, or orphaned sockets ` +
  'were killed past net.ipv4.tcp_max_orphans.';
const pawsDescription = (rate: string): string =>
  `web-1:10120 rejects ${rate} segments/s (established, SYN-ACK and TIME_WAIT stages together; old ACKs left ` +
  'out) because their TCP timestamp is older than one already seen from that peer. Usually several clients ' +
  'share one NAT address with unrelated timestamp clocks; their connections stall or fail.';
const closeWaitStuckDescription = (sockets: string, where: string): string =>
  `web-1:10120 holds up to ${sockets} sockets that stayed in CLOSE_WAIT past the exporter’s ` +
  `--collector.ports.close-wait-stuck-after ${where}: the peer closed them and the program never called ` +
  'close(). A leak ends in file-descriptor exhaustion; a pool that keeps dead connections fails its next ' +
  'request on each.';
const synSentDescription = (sockets: string): string =>
  `web-1:10120 has up to ${sockets} connections stuck in SYN_SENT toward remote port 5432: SYNs go unanswered ` +
  '(the upstream is down, or a firewall drops them), and each connect() waits through its retries (about 2 ' +
  'minutes) before it fails.';

const SCENARIOS: readonly AlertScenarios[] = [
  {
    alert: 'TcpStateEphemeralPortsExhausted',
    evalTime: '5m',
    flapping: {
      name: 'ports freed and retaken at once: 100 % and 99.99 % from one scrape to the next',
      series: { [USED]: alternate(10000, 9999, 11), [USABLE]: '10000x10' },
      expected: [
        {
          labels: critical(DESTINATION_LABELS),
          description: exhaustedDescription(10000),
        },
      ],
    },
    burst: {
      name: 'one sample at 100 % between halves is a burst, not an outage',
      series: { [USED]: '5000x3 10000 5000x6', [USABLE]: '10000x10' },
    },
    firing: {
      name: 'every usable port toward one destination is blocked',
      series: { [USED]: '1000x10', [USABLE]: '1000x10' },
      expected: [
        {
          labels: critical(DESTINATION_LABELS),
          description: exhaustedDescription(1000),
        },
      ],
    },
    quiet: {
      name: 'ten ports left is not exhaustion',
      series: { [USED]: '990x10', [USABLE]: '1000x10' },
    },
    idle: { name: 'no outgoing connections', series: { [USED]: '0x10', [USABLE]: '28232x10' } },
    reset: {
      name: 'an exporter restart (a sample of zeros) does not resolve the page',
      series: { [USED]: '1000x3 0 1000x5', [USABLE]: '1000x3 0 1000x5' },
      expected: [{ labels: critical(DESTINATION_LABELS), description: exhaustedDescription(1000) }],
    },
    absent: {
      name: 'no usable count (ephemeral collector failing): nothing to compare with',
      series: { [USED]: '1000x10' },
    },
    more: [
      {
        kind: 'firing',
        name: 'a pod’s exhaustion names its pod, namespace and container',
        series: { [POD_USED]: '28232x10', [POD_USABLE]: '28232x10', [POD_INFO]: '1x10' },
        expected: [
          {
            labels: critical({ ...POD_LABELS, ...DESTINATION_LABELS }),
            description: exhaustedDescription(28232, POD_OWNER),
          },
        ],
      },
      {
        kind: 'flapping',
        name: 'a pod’s ports freed and retaken at once: 100 % and 99.99 % from one round to the next',
        series: { [POD_USED]: alternate(10000, 9999, 11), [POD_USABLE]: '10000x10' },
        expected: [
          {
            labels: critical({ ...POD_LABELS, ...DESTINATION_LABELS }),
            description: exhaustedDescription(10000, POD_OWNER),
          },
        ],
      },
      {
        kind: 'burst',
        name: 'one round of a pod at 100 % between halves',
        series: { [POD_USED]: '5000x3 10000 5000x6', [POD_USABLE]: '10000x10' },
      },
      {
        kind: 'firing',
        name: 'the host and two pods at once: the host and the exhausted pod page apart, each with its own usable count; the half-used pod stays quiet',
        series: {
          [`tcpstate_ephemeral_ports_used{${TARGET},${HOST_NETNS},${DESTINATION}}`]: '1000x10',
          [`tcpstate_ephemeral_ports_usable{${TARGET},${HOST_NETNS}}`]: '1000x10',
          [POD_USED]: '28232x10',
          [POD_USABLE]: '28232x10',
          [POD_INFO]: '1x10',
          [`tcpstate_ephemeral_ports_used{${TARGET},${OTHER_POD},${DESTINATION}}`]: '14000x10',
          [`tcpstate_ephemeral_ports_usable{${TARGET},${OTHER_POD}}`]: '28232x10',
          [netnsInfo(OTHER_POD)]: '1x10',
        },
        expected: [
          {
            labels: critical({ ...HOST_LABELS, ...DESTINATION_LABELS }),
            description: exhaustedDescription(1000),
          },
          {
            labels: critical({ ...POD_LABELS, ...DESTINATION_LABELS }),
            description: exhaustedDescription(28232, POD_OWNER),
          },
        ],
      },
      {
        kind: 'firing',
        name: 'a plain Docker container (no pod) is named by its container ID',
        series: {
          [`tcpstate_ephemeral_ports_used{${TARGET},${CONTAINER},${DESTINATION}}`]: '100x10',
          [`tcpstate_ephemeral_ports_usable{${TARGET},${CONTAINER}}`]: '100x10',
          [netnsInfo(CONTAINER)]: '1x10',
        },
        expected: [
          {
            labels: critical({
              netns: '4026532302',
              container: '3f2a9c1b7d4e',
              ...DESTINATION_LABELS,
            }),
            description: exhaustedDescription(100, 'container 3f2a9c1b7d4e on web-1:10120'),
          },
        ],
      },
      {
        kind: 'firing',
        name: 'a namespace of no container (ip netns) is named by its inode',
        series: {
          [`tcpstate_ephemeral_ports_used{${TARGET},netns="4026532400",${DESTINATION}}`]: '100x10',
          [`tcpstate_ephemeral_ports_usable{${TARGET},netns="4026532400"}`]: '100x10',
          [netnsInfo('netns="4026532400"')]: '1x10',
        },
        expected: [
          {
            labels: critical({ netns: '4026532400', ...DESTINATION_LABELS }),
            description: exhaustedDescription(100, 'network namespace 4026532400 on web-1:10120'),
          },
        ],
      },
    ],
  },
  {
    alert: 'TcpStateEphemeralPortsNearlyExhausted',
    evalTime: '8m',
    flapping: {
      name: '80 % and 79.9 % from one scrape to the next is held',
      series: { [USED]: alternate(800, 799, 11), [USABLE]: '1000x10' },
      expected: [
        { labels: critical(DESTINATION_LABELS), description: nearlyExhaustedDescription('80%') },
      ],
    },
    burst: {
      name: 'two minutes at 90 % between halves is a burst',
      series: { [USED]: '500x3 900x2 500x5', [USABLE]: '1000x10' },
    },
    firing: {
      name: '85 % of the ports toward one destination blocked for 5 minutes',
      series: { [USED]: '850x10', [USABLE]: '1000x10' },
      expected: [
        {
          labels: critical(DESTINATION_LABELS),
          description: nearlyExhaustedDescription('85%'),
        },
      ],
    },
    quiet: {
      name: '79 % is below the critical share',
      series: { [USED]: '790x10', [USABLE]: '1000x10' },
    },
    idle: { name: 'no outgoing connections', series: { [USED]: '0x10', [USABLE]: '28232x10' } },
    reset: {
      name: 'an exporter restart (one sample of zeros) does not end the outage',
      series: { [USED]: '850x4 0 850x5', [USABLE]: '1000x4 0 1000x5' },
      expected: [
        { labels: critical(DESTINATION_LABELS), description: nearlyExhaustedDescription('85%') },
      ],
    },
    absent: { name: 'no usable count', series: { [USED]: '850x10' } },
    more: [
      {
        kind: 'firing',
        name: 'an exhaustion that drops to 97 % between bursts pages here too',
        series: { [USED]: alternate(1000, 970, 11), [USABLE]: '1000x10' },
        expected: [
          { labels: critical(DESTINATION_LABELS), description: nearlyExhaustedDescription('100%') },
        ],
      },
      {
        kind: 'firing',
        name: '85 % of a pod’s ports toward one destination pages for the pod; the host’s 10 % stays quiet',
        series: {
          [POD_USED]: '850x10',
          [POD_USABLE]: '1000x10',
          [POD_INFO]: '1x10',
          [`tcpstate_ephemeral_ports_used{${TARGET},${HOST_NETNS},${DESTINATION}}`]: '100x10',
          [`tcpstate_ephemeral_ports_usable{${TARGET},${HOST_NETNS}}`]: '1000x10',
        },
        expected: [
          {
            labels: critical({ ...POD_LABELS, ...DESTINATION_LABELS }),
            description: nearlyExhaustedDescription('85%', POD_OWNER),
          },
        ],
      },
    ],
  },
  {
    alert: 'TcpStateEphemeralPortsUnusable',
    evalTime: '8m',
    firing: {
      name: 'the reserved ports cover the whole range',
      series: { [USABLE]: '0x10' },
      expected: [{ labels: critical(), description: UNUSABLE_DESCRIPTION }],
    },
    quiet: {
      name: 'one usable port is the exhaustion alerts’ story',
      series: { [USABLE]: '1x10' },
    },
    idle: { name: 'the default range', series: { [USABLE]: '28232x10' } },
    reset: {
      name: 'an exporter restart serves one sample of zeros',
      series: { [USABLE]: '28232x3 0 28232x5' },
    },
    absent: { name: 'ephemeral collector failing', series: { [TIME_WAIT_V4]: '0x10' } },
    flapping: {
      name: 'no port usable one sample in two: connect() fails half the time',
      series: { [USABLE]: alternate(0, 28232, 11) },
      expected: [{ labels: critical(), description: UNUSABLE_DESCRIPTION }],
    },
    burst: { name: 'two samples of zeros', series: { [USABLE]: '28232x3 0x2 28232x5' } },
  },
  {
    alert: 'TcpStateEphemeralPortHeadroomLow',
    evalTime: '20m',
    flapping: {
      name: 'headroom at 50 % and 50.01 % from one scrape to the next',
      series: { [HEADROOM]: alternate(0.5, 0.5001, 31), [USABLE]: '10000x30' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 had as little as 50% of its 10000 usable ephemeral ports left toward its busiest destination.',
        },
      ],
    },
    burst: {
      name: 'five minutes at 30 % is a burst',
      series: { [HEADROOM]: '0.8x5 0.3x5 0.8x20', [USABLE]: '1000x30' },
    },
    firing: {
      name: 'headroom at 40 % for 20 minutes names the busiest destination',
      series: {
        [HEADROOM]: '0.4x30',
        [USED]: '600x30',
        [`tcpstate_ephemeral_ports_used{${TARGET},local_address="10.0.0.5",remote_address="10.0.0.20",remote_port="5432"}`]:
          '100x30',
        [USABLE]: '1000x30',
      },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 had as little as 40% of its 1000 usable ephemeral ports left toward its busiest destination ' +
            '(10.0.0.9 port 9000 from local address 10.0.0.5, 600 ports blocked).',
        },
      ],
    },
    quiet: { name: 'headroom of 60 %', series: { [HEADROOM]: '0.6x30', [USABLE]: '1000x30' } },
    idle: { name: 'all ports free', series: { [HEADROOM]: '1x30', [USABLE]: '28232x30' } },
    reset: {
      name: 'an exporter restart (one sample at full headroom) does not restart the 15 minutes',
      series: { [HEADROOM]: '0.4x11 1 0.4x18', [USABLE]: '1000x30' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 had as little as 40% of its 1000 usable ephemeral ports left toward its busiest destination.',
        },
      ],
    },
    absent: {
      name: 'ephemeral collector failing: no headroom series',
      series: { [USABLE]: '1000x30' },
    },
    more: [
      {
        kind: 'firing',
        name: 'headroom of 10 % still warns: the levels overlap, the critical inhibits it in Alertmanager',
        series: { [HEADROOM]: '0.1x30', [USED]: '900x30', [USABLE]: '1000x30' },
        expected: [
          {
            labels: warning(),
            description:
              'web-1:10120 had as little as 10% of its 1000 usable ephemeral ports left toward its busiest ' +
              'destination (10.0.0.9 port 9000 from local address 10.0.0.5, 900 ports blocked).',
          },
        ],
      },
      {
        kind: 'firing',
        name: 'a pod’s low headroom names its own busiest destination, not the host’s busier one',
        series: {
          [POD_HEADROOM]: '0.4x30',
          [POD_USED]: '600x30',
          [POD_USABLE]: '1000x30',
          [POD_INFO]: '1x30',
          [`tcpstate_ephemeral_port_headroom_ratio{${TARGET},${HOST_NETNS}}`]: '0.9x30',
          [`tcpstate_ephemeral_ports_used{${TARGET},${HOST_NETNS},local_address="10.0.0.5",remote_address="10.0.0.20",remote_port="5432"}`]:
            '2000x30',
          [`tcpstate_ephemeral_ports_usable{${TARGET},${HOST_NETNS}}`]: '20000x30',
        },
        expected: [
          {
            labels: warning(POD_LABELS),
            description:
              `${POD_OWNER} had as little as 40% of its 1000 usable ephemeral ports left toward its busiest ` +
              'destination (10.0.0.9 port 9000 from local address 10.0.0.5, 600 ports blocked).',
          },
        ],
      },
    ],
  },
  {
    alert: 'TcpStateEphemeralPortsHeldHigh',
    evalTime: '20m',
    flapping: {
      name: '80 % and 79.9 % held from one scrape to the next',
      series: { [HELD]: alternate(800, 799, 31), [USED_MAX]: '100x30', [USABLE]: '1000x30' },
      expected: [{ labels: warning(), description: heldDescription('80%') }],
    },
    burst: {
      name: 'three minutes at 95 % held',
      series: { [HELD]: '500x5 950x3 500x22', [USED_MAX]: '100x30', [USABLE]: '1000x30' },
    },
    firing: {
      name: '90 % of the usable ports held, over many destinations, for 20 minutes',
      series: { [HELD]: '900x30', [USED_MAX]: '100x30', [USABLE]: '1000x30' },
      expected: [
        {
          labels: warning(),
          description: heldDescription('90%'),
        },
      ],
    },
    quiet: {
      name: '70 % held (doctor’s info level, no alert)',
      series: { [HELD]: '700x30', [USED_MAX]: '100x30', [USABLE]: '1000x30' },
    },
    idle: {
      name: 'no ports held',
      series: { [HELD]: '0x30', [USED_MAX]: '0x30', [USABLE]: '28232x30' },
    },
    reset: {
      name: 'the exporter restarted 9 minutes ago',
      series: { [HELD]: '900x10 0 900x19', [USED_MAX]: '100x30', [USABLE]: '1000x30' },
    },
    absent: {
      name: 'an exporter without the held-ports gauge',
      series: { [USED_MAX]: '100x30', [USABLE]: '1000x30' },
    },
    more: [
      {
        kind: 'firing',
        name: '100 % held, as by reusable loopback TIME_WAIT, stays a warning: it must not page',
        series: { [HELD]: '1000x30', [USED_MAX]: '80x30', [USABLE]: '1000x30' },
        expected: [
          {
            labels: warning(),
            description: heldDescription('100%'),
          },
        ],
      },
      {
        kind: 'quiet',
        name: 'every held port toward one destination is the exhaustion alerts’ story, as in doctor',
        series: { [HELD]: '900x30', [USED_MAX]: '900x30', [USABLE]: '1000x30' },
      },
    ],
  },
  {
    alert: 'TcpStateNetnsRoundStalled',
    evalTime: '25m',
    firing: {
      name: 'no round over the namespaces since time 0',
      series: { [LAST_ROUND]: '0x30' },
      expected: [
        {
          labels: warning(),
          description:
            'The exporter on web-1:10120 started its last round over the network namespaces 25m 0s ago: every ' +
            'figure of a pod it serves is that old, and no alert on a pod can fire or resolve.',
        },
      ],
    },
    quiet: {
      name: 'a round every 5 minutes (a long --collector.netns.interval)',
      series: { [LAST_ROUND]: '0x5 300x5 600x5 900x5 1200x5 1500x5' },
    },
    idle: { name: 'a round every minute', series: { [LAST_ROUND]: '0+60x30' } },
    reset: {
      name: 'a restart 7 minutes ago ended the stall before it lasted 5 minutes',
      series: { [LAST_ROUND]: '0x18 1080+60x12' },
    },
    absent: { name: 'no netns collector', series: { [TIME_WAIT_V4]: '0x30' } },
    flapping: {
      name: 'rounds 16 minutes apart: past the limit a minute at a time',
      series: { [LAST_ROUND]: '0x16 960x14' },
    },
    burst: {
      name: 'one round ten minutes late',
      series: { [LAST_ROUND]: '0+60x10 600x10 1200+60x10' },
    },
  },
  {
    alert: 'TcpStateSysctlsAssumed',
    evalTime: '40m',
    flapping: {
      name: 'a namespace read one refresh in two',
      series: { [assumed('4026532301')]: alternate(1, 0, 41) },
    },
    burst: {
      name: 'ten minutes unread',
      series: { [assumed('4026532301')]: '0x10 1x10 0x20' },
    },
    firing: {
      name: 'two namespaces’ sysctls unread for 40 minutes, the node’s own read',
      series: {
        [assumed('4026532301')]: '1x40',
        [assumed('4026532302')]: '1x40',
        [assumed('4026531840')]: '0x40',
      },
      expected: [
        {
          labels: info(),
          description:
            'The exporter on web-1:10120 cannot read the sysctls of 2 network namespaces (it needs ' +
            'CAP_SYS_ADMIN to enter them) and computes their ephemeral figures with a new namespace’s kernel ' +
            'defaults. A pod that sets its own net.ipv4.ip_local_port_range or tcp_tw_reuse gets wrong headroom.',
        },
      ],
    },
    quiet: {
      name: 'one namespace unread for only 20 minutes',
      series: { [assumed('4026532301')]: '0x20 1x20', [assumed('4026532302')]: '0x40' },
    },
    idle: {
      name: 'every namespace’s sysctls read',
      series: { [assumed('4026532301')]: '0x40', [assumed('4026532302')]: '0x40' },
    },
    reset: {
      name: 'the exporter restarted 23 minutes ago and read them once',
      series: { [assumed('4026532301')]: '1x15 0 1x24' },
    },
    absent: {
      name: 'no netns collector: no namespace series at all',
      series: { [TIME_WAIT_V4]: '100x40' },
    },
  },
  {
    alert: 'TcpStateNetnsNamespacesDropped',
    evalTime: '40m',
    flapping: {
      name: 'namespaces dropped one round in two: the node is crowded',
      series: { [NAMESPACES('dropped')]: alternate(12, 0, 41), [NAMESPACES('exported')]: '100x40' },
      expected: [{ labels: warning(), description: droppedDescription('12') }],
    },
    burst: {
      name: 'ten minutes crowded during a rollout',
      series: { [NAMESPACES('dropped')]: '0x10 12x10 0x20', [NAMESPACES('exported')]: '100x40' },
    },
    firing: {
      name: '12 namespaces beyond the limit for 40 minutes',
      series: { [NAMESPACES('dropped')]: '12x40', [NAMESPACES('exported')]: '100x40' },
      expected: [
        {
          labels: warning(),
          description: droppedDescription('12'),
        },
      ],
    },
    quiet: {
      name: 'every namespace exported',
      series: { [NAMESPACES('dropped')]: '0x40', [NAMESPACES('exported')]: '80x40' },
    },
    idle: {
      name: 'a node with no namespace but its own',
      series: { [NAMESPACES('dropped')]: '0x40', [NAMESPACES('exported')]: '0x40' },
    },
    reset: {
      name: 'an exporter restart (one round of zeros) does not end the crowding',
      series: { [NAMESPACES('dropped')]: '12x15 0 12x24', [NAMESPACES('exported')]: '100x40' },
      expected: [{ labels: warning(), description: droppedDescription('12') }],
    },
    absent: {
      name: 'no netns collector',
      series: { [TIME_WAIT_V4]: '100x40' },
    },
  },
  {
    alert: 'TcpStateTimeWaitNearBucketLimit',
    evalTime: '20m',
    firing: {
      name: 'sockstat tw at 87.5 % of tcp_max_tw_buckets, whatever the socket table shows',
      series: {
        [SOCKSTAT_TW]: '7000x30',
        [TIME_WAIT_V4]: '5000x30',
        [ESTABLISHED_V4]: '50000x30',
        [BUCKETS]: '8000x30',
      },
      expected: [{ labels: warning(), description: bucketsDescription('87.5%') }],
    },
    quiet: {
      name: 'sockstat tw at 62 % of the limit, whatever else is open',
      series: { [SOCKSTAT_TW]: '5000x30', [TIME_WAIT_V4]: '7000x30', [BUCKETS]: '8000x30' },
    },
    idle: { name: 'no TIME_WAIT', series: { [SOCKSTAT_TW]: '0x30', [BUCKETS]: '262144x30' } },
    reset: {
      name: 'an exporter restart (one sample of zeros) does not restart the 15 minutes',
      series: { [SOCKSTAT_TW]: '7000x10 0 7000x19', [BUCKETS]: '8000x30' },
      expected: [{ labels: warning(), description: bucketsDescription('87.5%') }],
    },
    absent: {
      name: 'sysctl collector failing: no limit to compare with',
      series: { [SOCKSTAT_TW]: '7000x30' },
    },
    flapping: {
      name: '75 % and 74.99 % from one scrape to the next',
      series: { [SOCKSTAT_TW]: alternate(6000, 5999, 31), [BUCKETS]: '8000x30' },
      expected: [{ labels: warning(), description: bucketsDescription('75%') }],
    },
    burst: {
      name: 'three minutes at 99 %',
      series: { [SOCKSTAT_TW]: '1000x5 7920x3 1000x22', [BUCKETS]: '8000x30' },
    },
    more: [
      {
        kind: 'firing',
        name: 'at the limit it is still a warning: the overflow only frees ports',
        series: { [SOCKSTAT_TW]: '8000x30', [BUCKETS]: '8000x30' },
        expected: [{ labels: warning(), description: bucketsDescription('100%') }],
      },
    ],
  },
  {
    alert: 'TcpStateTimeWaitOverflow',
    evalTime: '13m',
    flapping: {
      name: 'an overflow every other minute',
      series: { [counter('tcpstate_timewait_overflows_total')]: everyOther(10, 15) },
      expected: [{ labels: warning(), description: overflowDescription('20') }],
    },
    burst: {
      name: 'one burst of overflows eight minutes ago',
      series: { [counter('tcpstate_timewait_overflows_total')]: '100x5 200x10' },
    },
    firing: {
      name: 'overflows in the last five minutes',
      series: { [counter('tcpstate_timewait_overflows_total')]: '100x10 150 200 250' },
      expected: [
        {
          labels: warning(),
          description: overflowDescription('150'),
        },
      ],
    },
    quiet: {
      name: 'old overflows, none in the last five minutes',
      series: { [counter('tcpstate_timewait_overflows_total')]: '100x15' },
    },
    idle: {
      name: 'never overflowed',
      series: { [counter('tcpstate_timewait_overflows_total')]: '0x15' },
    },
    reset: {
      name: 'a counter reset by a reboot is not an overflow',
      series: { [counter('tcpstate_timewait_overflows_total')]: '100x5 0x10' },
    },
    absent: { name: 'netstat collector failing', series: { [TIME_WAIT_V4]: '100x15' } },
    more: [
      {
        kind: 'firing',
        name: 'overflows in a pod’s namespace (its own tcp_max_tw_buckets) name the pod',
        series: { [POD_OVERFLOWS]: '100x10 150 200 250', [POD_INFO]: '1x13' },
        expected: [
          { labels: warning(POD_LABELS), description: overflowDescription('150', POD_OWNER) },
        ],
      },
      {
        kind: 'reset',
        name: 'a namespace inode reused by a new pod restarts its counter: not an overflow',
        series: { [POD_OVERFLOWS]: '100x5 0x10' },
      },
    ],
  },
  {
    alert: 'TcpStateListenQueueOverflowing',
    evalTime: '20m',
    flapping: {
      name: 'overflows every other minute',
      series: { [counter('tcpstate_listen_overflows_total')]: everyOther(120, 31) },
      expected: [{ labels: warning(), description: listenDescription('1.2') }],
    },
    burst: {
      name: 'one burst of 500 drops a quarter of an hour ago',
      series: { [counter('tcpstate_listen_overflows_total')]: '0x5 500x25' },
    },
    firing: {
      name: 'a listen queue overflowing once a second for 20 minutes',
      series: { [counter('tcpstate_listen_overflows_total')]: '0+60x30' },
      expected: [
        {
          labels: warning(),
          description: listenDescription('1'),
        },
      ],
    },
    quiet: {
      name: 'old listen overflows that stopped',
      series: { [counter('tcpstate_listen_overflows_total')]: '500x30' },
    },
    idle: {
      name: 'never overflowed',
      series: { [counter('tcpstate_listen_overflows_total')]: '0x30' },
    },
    reset: {
      name: 'a counter reset by a reboot',
      series: { [counter('tcpstate_listen_overflows_total')]: '1000000x10 0x20' },
    },
    absent: { name: 'netstat collector failing', series: { [TIME_WAIT_V4]: '0x30' } },
    more: [
      {
        kind: 'firing',
        name: 'a pod’s listen queue overflowing once a second names the pod',
        series: { [POD_LISTEN_OVERFLOWS]: '0+60x30', [POD_INFO]: '1x30' },
        expected: [{ labels: warning(POD_LABELS), description: listenDescription('1', POD_OWNER) }],
      },
    ],
  },
  {
    alert: 'TcpStateListenQueueFull',
    evalTime: '10m',
    firing: {
      name: 'port 8080 never empties while accept queues overflow; port 9000 has a queue now and then',
      series: {
        [QUEUE_LENGTH]: '129x10',
        [`tcpstate_listen_queue_length{${TARGET},port="9000"}`]: alternate(0, 300, 11),
        [OVERFLOWS]: '0+60x10',
      },
      expected: [
        { labels: warning({ port: '8080' }), description: queueFullDescription('129', '8080') },
      ],
    },
    quiet: {
      name: 'a waiting queue without overflows is a busy server, not a full queue',
      series: { [QUEUE_LENGTH]: '64x10', [OVERFLOWS]: '100x10' },
    },
    idle: {
      name: 'empty queues, no overflows',
      series: { [QUEUE_LENGTH]: '0x10', [OVERFLOWS]: '0x10' },
    },
    reset: {
      name: 'an overflow counter reset by a reboot',
      series: { [QUEUE_LENGTH]: '128x10', [OVERFLOWS]: '1000000x5 0x5' },
    },
    absent: {
      name: 'an exporter without queue lengths',
      series: { [OVERFLOWS]: '0+60x10' },
    },
    flapping: {
      name: 'the full queue at 128 and 127 from one scrape to the next',
      series: { [QUEUE_LENGTH]: alternate(128, 127, 11), [OVERFLOWS]: '0+60x10' },
      expected: [
        { labels: warning({ port: '8080' }), description: queueFullDescription('127', '8080') },
      ],
    },
    burst: {
      name: 'one burst of overflows while a queue stays long',
      series: { [QUEUE_LENGTH]: '128x10', [OVERFLOWS]: '0x2 500x8' },
    },
    more: [
      {
        kind: 'firing',
        name: 'of two queues that never empty, the longer one is named',
        series: {
          [QUEUE_LENGTH]: '20x10',
          [`tcpstate_listen_queue_length{${TARGET},port="9000"}`]: '4096x10',
          [OVERFLOWS]: '0+60x10',
        },
        expected: [
          { labels: warning({ port: '9000' }), description: queueFullDescription('4096', '9000') },
        ],
      },
      {
        kind: 'quiet',
        name: 'a pod dropping connections does not blame the host’s longest queue',
        series: {
          [`tcpstate_listen_queue_length{${TARGET},${HOST_NETNS},port="8080"}`]: '129x10',
          [`tcpstate_listen_overflows_total{${TARGET},${HOST_NETNS}}`]: '100x10',
          [POD_LISTEN_OVERFLOWS]: '0+60x10',
        },
      },
    ],
  },
  {
    alert: 'TcpStateSynQueueOverflowing',
    evalTime: '20m',
    flapping: {
      name: 'drops every other minute',
      series: { [counter('tcpstate_syn_queue_full_drops_total')]: everyOther(120, 31) },
      expected: [{ labels: warning(), description: synQueueDescription('1.2') }],
    },
    burst: {
      name: 'one burst of drops a quarter of an hour ago',
      series: { [counter('tcpstate_syn_queue_full_drops_total')]: '0x5 500x25' },
    },
    firing: {
      name: 'a SYN dropped every second for 20 minutes',
      series: { [counter('tcpstate_syn_queue_full_drops_total')]: '0+60x30' },
      expected: [
        {
          labels: warning(),
          description: synQueueDescription('1'),
        },
      ],
    },
    quiet: {
      name: 'drops that stopped',
      series: { [counter('tcpstate_syn_queue_full_drops_total')]: '50x30' },
    },
    idle: {
      name: 'never dropped',
      series: { [counter('tcpstate_syn_queue_full_drops_total')]: '0x30' },
    },
    reset: {
      name: 'a counter reset by a reboot',
      series: { [counter('tcpstate_syn_queue_full_drops_total')]: '100000x10 0x20' },
    },
    absent: { name: 'a kernel without the counter', series: { [TIME_WAIT_V4]: '0x30' } },
  },
  {
    alert: 'TcpStateSynCookiesSent',
    evalTime: '390m',
    firing: {
      name: 'two cookies a second for half an hour after a quiet day',
      series: { [COOKIES]: '0x360 0+120x40', [SYNCOOKIES]: '1x400' },
      expected: [{ labels: warning(), description: cookiesDescription('2') }],
    },
    quiet: {
      name: 'an internet-facing host sends two cookies a second all day: its baseline',
      series: { [COOKIES]: '0+120x400', [SYNCOOKIES]: '1x400' },
    },
    idle: { name: 'no cookies', series: { [COOKIES]: '0x400', [SYNCOOKIES]: '1x400' } },
    reset: {
      name: 'a reboot resets the steady background’s counter: not a surge',
      series: { [COOKIES]: '0+120x360 0+120x39', [SYNCOOKIES]: '1x400' },
    },
    absent: { name: 'netstat collector failing', series: { [SYNCOOKIES]: '1x400' } },
    flapping: {
      name: 'four cookies every other minute after a quiet day',
      series: { [COOKIES]: `0x360 ${everyOther(240, 40)}`, [SYNCOOKIES]: '1x400' },
      expected: [{ labels: warning(), description: cookiesDescription('1.6') }],
    },
    burst: {
      name: 'one burst of 20000 cookies (a scan) twenty minutes ago',
      series: { [COOKIES]: '0x368 20000x31', [SYNCOOKIES]: '1x400' },
    },
    more: [
      {
        kind: 'quiet',
        name: 'tcp_syncookies=2 sends a cookie for every SYN: no queue overflows',
        series: { [COOKIES]: '0x360 0+120x40', [SYNCOOKIES]: '2x400' },
      },
    ],
  },
  {
    alert: 'TcpStateOrphansNearLimit',
    evalTime: '10m',
    firing: {
      name: 'orphans at 30.5 % of tcp_max_orphans',
      series: { [ORPHANS]: '20000x10', [MAX_ORPHANS]: '65536x10' },
      expected: [{ labels: warning(), description: orphansDescription('30.52%', '65536') }],
    },
    quiet: {
      name: 'orphans at 15 %',
      series: { [ORPHANS]: '10000x10', [MAX_ORPHANS]: '65536x10' },
    },
    idle: { name: 'no orphans', series: { [ORPHANS]: '0x10', [MAX_ORPHANS]: '65536x10' } },
    reset: {
      name: 'an exporter restart (one sample of zeros) does not restart the 5 minutes',
      series: { [ORPHANS]: '20000x5 0 20000x4', [MAX_ORPHANS]: '65536x10' },
      expected: [{ labels: warning(), description: orphansDescription('30.52%', '65536') }],
    },
    absent: { name: 'no tcp_max_orphans exported', series: { [ORPHANS]: '40000x10' } },
    flapping: {
      name: '25 % and 24.99 % from one scrape to the next',
      series: { [ORPHANS]: alternate(16384, 16383, 11), [MAX_ORPHANS]: '65536x10' },
      expected: [{ labels: warning(), description: orphansDescription('25%', '65536') }],
    },
    burst: {
      name: 'two minutes at 90 %',
      series: { [ORPHANS]: '1000x3 59000x2 1000x5', [MAX_ORPHANS]: '65536x10' },
    },
    more: [
      {
        kind: 'flapping',
        name: '50 % and 49.99 % from one scrape to the next pages',
        series: { [ORPHANS]: alternate(32768, 32767, 11), [MAX_ORPHANS]: '65536x10' },
        expected: [
          { labels: warning(), description: orphansDescription('50%', '65536') },
          { labels: critical(), description: orphansDescription('50%', '65536') },
        ],
      },
      {
        kind: 'firing',
        name: 'from half the limit it is critical; the warning holds too (Alertmanager inhibits it)',
        series: { [ORPHANS]: '2048x10', [MAX_ORPHANS]: '4096x10' },
        expected: [
          { labels: warning(), description: orphansDescription('50%', '4096') },
          { labels: critical(), description: orphansDescription('50%', '4096') },
        ],
      },
    ],
  },
  {
    alert: 'TcpStateMemoryPressure',
    evalTime: '10m',
    firing: {
      name: 'TCP memory above the pressure level for 10 minutes',
      series: { [MEM_PAGES]: '99000x10', [MEM_PRESSURE]: '90000x10', [MEM_MAX]: '120000x10' },
      expected: [{ labels: warning(), description: MEMORY_PRESSURE_DESCRIPTION }],
    },
    quiet: {
      name: 'half the pressure level, and pressure entered once',
      series: {
        [MEM_PAGES]: '45000x10',
        [MEM_PRESSURE]: '90000x10',
        [counter('tcpstate_memory_pressures_total')]: '3x5 4x5',
      },
    },
    idle: {
      name: 'no TCP memory in use',
      series: { [MEM_PAGES]: '0x10', [MEM_PRESSURE]: '90000x10' },
    },
    reset: {
      name: 'a counter reset by a reboot is no entry',
      series: {
        [MEM_PAGES]: '1000x10',
        [MEM_PRESSURE]: '90000x10',
        [counter('tcpstate_memory_pressures_total')]: '50x5 0x5',
      },
    },
    absent: {
      name: 'no pressure level (a container: tcp_mem is host-only) and no counter',
      series: { [MEM_PAGES]: '99000x10' },
    },
    flapping: {
      name: 'at the pressure level and just below from one scrape to the next',
      series: { [MEM_PAGES]: alternate(90000, 89991, 11), [MEM_PRESSURE]: '90000x10' },
      expected: [{ labels: warning(), description: MEMORY_PRESSURE_DESCRIPTION }],
    },
    burst: {
      name: 'one sample above the pressure level',
      series: { [MEM_PAGES]: '45000x4 99000 45000x5', [MEM_PRESSURE]: '90000x10' },
    },
    more: [
      {
        kind: 'firing',
        name: 'entering pressure every 3 minutes, between samples that never saw it',
        series: {
          [MEM_PAGES]: '1000x10',
          [MEM_PRESSURE]: '90000x10',
          [counter('tcpstate_memory_pressures_total')]: '0 1x2 2x2 3x2 4x2 5',
        },
        expected: [{ labels: warning(), description: MEMORY_PRESSURE_DESCRIPTION }],
      },
      {
        kind: 'firing',
        name: 'one entry in the host’s namespace and one in a pod’s are the node’s two: one alert, for the node',
        series: {
          [MEM_PAGES]: '1000x10',
          [MEM_PRESSURE]: '90000x10',
          [counter('tcpstate_memory_pressures_total', HOST_NETNS)]: '0x2 1x10',
          [counter('tcpstate_memory_pressures_total', POD)]: '0 1x11',
        },
        expected: [{ labels: warning(), description: MEMORY_PRESSURE_DESCRIPTION }],
      },
    ],
  },
  {
    alert: 'TcpStateMemoryExhausted',
    evalTime: '10m',
    firing: {
      name: 'TCP memory at tcp_mem’s maximum',
      series: { [MEM_PAGES]: '121000x10', [MEM_MAX]: '120000x10' },
      expected: [{ labels: critical(), description: MEMORY_EXHAUSTED_DESCRIPTION }],
    },
    quiet: {
      name: 'below the maximum, with aborts (their own warning)',
      series: {
        [MEM_PAGES]: '100000x10',
        [MEM_MAX]: '120000x10',
        [counter('tcpstate_memory_aborts_total')]: '7x5 9 12 15 18 21',
      },
    },
    idle: { name: 'no TCP memory in use', series: { [MEM_PAGES]: '0x10', [MEM_MAX]: '120000x10' } },
    reset: {
      name: 'an exporter restart (one sample of zeros) does not end it',
      series: { [MEM_PAGES]: '121000x5 0 121000x4', [MEM_MAX]: '120000x10' },
      expected: [{ labels: critical(), description: MEMORY_EXHAUSTED_DESCRIPTION }],
    },
    absent: {
      name: 'no tcp_mem maximum (a container)',
      series: { [MEM_PAGES]: '121000x10' },
    },
    flapping: {
      name: 'at the maximum and just below from one scrape to the next',
      series: { [MEM_PAGES]: alternate(120000, 119990, 11), [MEM_MAX]: '120000x10' },
      expected: [{ labels: critical(), description: MEMORY_EXHAUSTED_DESCRIPTION }],
    },
    burst: {
      name: 'one sample at the maximum',
      series: { [MEM_PAGES]: '100000x4 121000 100000x5', [MEM_MAX]: '120000x10' },
    },
  },
  {
    alert: 'TcpStateMemoryAborts',
    evalTime: '20m',
    firing: {
      name: 'an abort every 10 seconds for 20 minutes',
      series: { [ABORTS]: '0+6x30' },
      expected: [{ labels: warning(), description: abortsDescription('0.10') }],
    },
    quiet: { name: 'old aborts, none for 20 minutes', series: { [ABORTS]: '7x30' } },
    idle: { name: 'never aborted', series: { [ABORTS]: '0x30' } },
    reset: { name: 'a counter reset by a reboot', series: { [ABORTS]: '500x6 0x24' } },
    absent: { name: 'netstat collector failing', series: { [MEM_PAGES]: '1000x30' } },
    flapping: {
      name: 'aborts every other minute',
      series: { [ABORTS]: everyOther(12, 31) },
      expected: [{ labels: warning(), description: abortsDescription('0.12') }],
    },
    burst: {
      name: 'one abort (an orphan killed) a quarter of an hour ago does not warn',
      series: { [ABORTS]: '0x5 1x25' },
    },
  },
  {
    alert: 'TcpStatePawsRejectsRising',
    evalTime: '20m',
    flapping: {
      name: 'rejects every other minute, 1.5 a second on average',
      series: {
        [counter('tcpstate_paws_rejected_total', 'stage="established"')]: everyOther(180, 31),
      },
      expected: [{ labels: warning(), description: pawsDescription('1.8') }],
    },
    burst: {
      name: 'one burst of rejects a quarter of an hour ago',
      series: { [counter('tcpstate_paws_rejected_total', 'stage="established"')]: '0x5 5000x25' },
    },
    firing: {
      name: 'PAWS rejects of established and TIME_WAIT stages together past one a second',
      series: {
        [counter('tcpstate_paws_rejected_total', 'stage="established"')]: '0+36x30',
        [counter('tcpstate_paws_rejected_total', 'stage="timewait"')]: '0+36x30',
        [counter('tcpstate_paws_rejected_total', 'stage="active"')]: '0x30',
        [counter('tcpstate_paws_rejected_total', 'stage="old_ack"')]: '0+600x30',
      },
      expected: [
        {
          labels: warning(),
          description: pawsDescription('1.2'),
        },
      ],
    },
    quiet: {
      name: 'half a reject a second',
      series: { [counter('tcpstate_paws_rejected_total', 'stage="timewait"')]: '0+30x30' },
    },
    idle: {
      name: 'no rejects',
      series: {
        [counter('tcpstate_paws_rejected_total', 'stage="established"')]: '0x30',
        [counter('tcpstate_paws_rejected_total', 'stage="active"')]: '0x30',
      },
    },
    reset: {
      name: 'counters reset by a reboot',
      series: {
        [counter('tcpstate_paws_rejected_total', 'stage="established"')]: '100000x10 0x20',
      },
    },
    absent: { name: 'netstat collector failing', series: { [TIME_WAIT_V4]: '0x30' } },
    more: [
      {
        kind: 'quiet',
        name: 'old ACKs alone, ten a second, are reordering, not a NAT',
        series: { [counter('tcpstate_paws_rejected_total', 'stage="old_ack"')]: '0+600x30' },
      },
    ],
  },
  {
    alert: 'TcpStateCloseWaitStuck',
    evalTime: '20m',
    firing: {
      name: 'stuck on a service port, and toward remote ports beyond the top ones ("other")',
      series: { [STUCK_IN]: '30x30', [STUCK_OTHER]: '25x30', [POOL_CLOSE_WAIT]: '600x30' },
      expected: [
        {
          labels: warning({ direction: 'inbound', port: '9000' }),
          description: closeWaitStuckDescription('30', 'on its service port 9000'),
        },
        {
          labels: warning({ direction: 'outbound', port: 'other' }),
          description: closeWaitStuckDescription('25', 'toward remote port other'),
        },
      ],
    },
    quiet: {
      name: 'a busy server: 600 CLOSE_WAIT sockets, each closed within the stuck delay, a few stuck',
      series: { [POOL_CLOSE_WAIT]: '600x30', [STUCK_IN]: '10x30' },
    },
    idle: { name: 'none stuck', series: { [STUCK_IN]: '0x30' } },
    reset: {
      name: 'a restart of the leaking program 10 minutes ago released them',
      series: { [STUCK_IN]: '30x10 0x20' },
    },
    absent: {
      name: 'an exporter without the stuck count: the plain count never alerts',
      series: { [POOL_CLOSE_WAIT]: '600x30' },
    },
    flapping: {
      name: '20 and 19 stuck from one scrape to the next',
      series: { [STUCK_IN]: alternate(20, 19, 31) },
      expected: [
        {
          labels: warning({ direction: 'inbound', port: '9000' }),
          description: closeWaitStuckDescription('20', 'on its service port 9000'),
        },
      ],
    },
    burst: { name: 'three minutes stuck', series: { [STUCK_IN]: '0x5 100x3 0x22' } },
  },
  {
    alert: 'TcpStateSynSentPileUp',
    evalTime: '10m',
    firing: {
      name: '40 connections stuck toward port 5432, many more hidden in "other"',
      series: { [SYN_SENT]: '40x10', [SYN_SENT_OTHER]: '500x10' },
      expected: [
        {
          labels: warning({ port: '5432', state: 'syn_sent' }),
          description: synSentDescription('40'),
        },
      ],
    },
    quiet: { name: 'five connections being set up', series: { [SYN_SENT]: '5x10' } },
    idle: { name: 'none', series: { [SYN_SENT]: '0x10' } },
    reset: {
      name: 'the upstream answered again four minutes ago',
      series: { [SYN_SENT]: '40x6 0x4' },
    },
    absent: { name: 'ports collector failing', series: { [TIME_WAIT_V4]: '0x10' } },
    flapping: {
      name: '20 and 19 from one scrape to the next',
      series: { [SYN_SENT]: alternate(20, 19, 11) },
      expected: [
        {
          labels: warning({ port: '5432', state: 'syn_sent' }),
          description: synSentDescription('20'),
        },
      ],
    },
    burst: {
      name: 'two minutes of a slow upstream',
      series: { [SYN_SENT]: '0x3 100x2 0x5' },
    },
  },
  {
    alert: 'TcpStateCollectorFailing',
    evalTime: '8m',
    flapping: {
      name: 'a collector failing one sample in two still serves its series half the time',
      series: { [COLLECTOR('netstat')]: alternate(0, 1, 11) },
    },
    burst: {
      name: 'three failed samples',
      series: { [COLLECTOR('netstat')]: '1x3 0x3 1x4' },
    },
    firing: {
      name: 'the netstat collector failing for 8 minutes',
      series: { [COLLECTOR('netstat')]: '0x10', [COLLECTOR('sockets')]: '1x10' },
      expected: [
        {
          labels: warning({ collector: 'netstat' }),
          description:
            'The netstat collector of the exporter on web-1:10120 has failed for 5m; its series are absent, so ' +
            'dashboards and alerts built on them see nothing.',
        },
      ],
    },
    quiet: { name: 'every collector succeeds', series: { [COLLECTOR('netstat')]: '1x10' } },
    idle: {
      name: 'every collector succeeds on an idle host',
      series: { [COLLECTOR('sockets')]: '1x10' },
    },
    reset: {
      name: 'a collector that failed for 3 minutes and recovered',
      series: { [COLLECTOR('netstat')]: '0x3 1x10' },
    },
    absent: { name: 'no collector series at all', series: { [`up{${TARGET}}`]: '1x10' } },
  },
  {
    alert: 'TcpStateExporterDown',
    evalTime: '8m',
    flapping: {
      name: 'one scrape in two succeeds: the alerts still see the host',
      series: { [`up{${TARGET}}`]: alternate(0, 1, 11) },
    },
    burst: { name: 'three failed scrapes', series: { [`up{${TARGET}}`]: '1x3 0x3 1x4' } },
    firing: {
      name: 'scrapes failing for 8 minutes',
      series: { [`up{${TARGET}}`]: '0x10' },
      expected: [
        {
          labels: warning(),
          description:
            'Scrapes of web-1:10120 (job tcpstate) have failed for 5m; TCP state alerts for this host cannot fire.',
        },
      ],
    },
    quiet: { name: 'a scraped exporter', series: { [`up{${TARGET}}`]: '1x10' } },
    idle: { name: 'an idle host’s exporter is up', series: { [`up{${TARGET}}`]: '1x10' } },
    reset: { name: 'down for 3 minutes, then back', series: { [`up{${TARGET}}`]: '0x3 1 0x5' } },
    absent: {
      name: 'no target at all is the absent alert, not this one',
      series: { 'up{job="node",instance="web-1:9100"}': '0x10' },
    },
  },
  {
    alert: 'TcpStateExporterAbsent',
    evalTime: '20m',
    flapping: {
      name: 'a target that comes and goes is not absent for 15 minutes',
      series: { [`up{${TARGET}}`]: '1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _ 1 _' },
    },
    burst: {
      name: 'gone for five minutes during a redeploy',
      series: { [`up{${TARGET}}`]: '1x10 _x5 1x15' },
    },
    firing: {
      name: 'no tcpstate target at all, only other jobs',
      series: { 'up{job="node",instance="web-1:9100"}': '1x30' },
      expected: [
        {
          labels: { severity: 'warning', job: 'tcpstate' },
          description:
            'No target matches up{job="tcpstate"} for 15m: service discovery or the scrape configuration lost ' +
            'the exporter, and no TCP state alert can fire.',
        },
      ],
    },
    quiet: {
      name: 'a failing tcpstate target is not absent',
      series: { [`up{${TARGET}}`]: '0x30' },
    },
    idle: { name: 'an up target', series: { [`up{${TARGET}}`]: '1x30' } },
    reset: {
      name: 'a target back 10 minutes ago, after a gap',
      series: { [`up{${TARGET}}`]: '_x10 1x20' },
    },
    absent: {
      name: 'nothing at all is absent too',
      series: { 'up{job="node",instance="web-1:9100"}': '_x30' },
      expected: [
        {
          labels: { severity: 'warning', job: 'tcpstate' },
          description:
            'No target matches up{job="tcpstate"} for 15m: service discovery or the scrape configuration lost ' +
            'the exporter, and no TCP state alert can fire.',
        },
      ],
    },
    multiInstance: {
      name: 'one of two targets down is not absent',
      series: { [`up{${TARGET}}`]: '0x30', 'up{job="tcpstate",instance="web-2:10120"}': '1x30' },
    },
  },
  {
    alert: 'TcpStateExporterSamplingStalled',
    evalTime: '10m',
    flapping: {
      name: 'samples late by turns, each stall shorter than 5 minutes',
      series: { [LAST_SAMPLE]: '0x3 240x3 480x3 720x3 960x3 1200x3 1440x3', [INTERVAL]: '15x20' },
    },
    burst: {
      name: 'one stall of three minutes',
      series: { [LAST_SAMPLE]: '0+60x5 300x3 480+60x12', [INTERVAL]: '15x20' },
    },
    firing: {
      name: 'the last sample stuck at time 0 with a 15 s interval',
      series: { [LAST_SAMPLE]: '0x20', [INTERVAL]: '15x20' },
      expected: [
        {
          labels: warning(),
          description:
            "The exporter on web-1:10120 last sampled the kernel's tables 10m 0s ago, more than 3 sample " +
            'intervals of 15s; every number it serves is that old.',
        },
      ],
    },
    quiet: {
      name: 'a 5-minute interval whose samples are 4 minutes old is on time (a fixed 60 s would fire)',
      series: { [LAST_SAMPLE]: '0x4 300x4 600x4 900x4 1200x4', [INTERVAL]: '300x24' },
    },
    idle: {
      name: 'fresh samples every minute',
      series: { [LAST_SAMPLE]: '0+60x20', [INTERVAL]: '60x20' },
    },
    reset: {
      name: 'a restart 6 minutes ago ended a stall before it lasted 5 minutes',
      series: { [LAST_SAMPLE]: '0x3 240+60x16', [INTERVAL]: '15x20' },
    },
    absent: {
      name: 'an exporter that does not export its interval',
      series: { [LAST_SAMPLE]: '0x20' },
    },
  },
  {
    alert: 'TcpStateMalformedLines',
    evalTime: '20m',
    flapping: {
      name: 'malformed lines in every other minute are a damaged table all the same',
      series: { [MALFORMED('tcp')]: everyOther(2, 26), [MALFORMED('tcp6')]: '0x25' },
      expected: [
        {
          labels: warning({ file: 'tcp' }),
          description:
            'The exporter on web-1:10120 skipped 6 malformed lines of /proc/net/tcp in the last 5 minutes, and ' +
            'has for 10m: its socket counts are short by those sockets (fewer than 1% of the table; beyond that ' +
            'the table fails instead).',
        },
      ],
    },
    burst: {
      name: 'malformed lines in 3 minutes, then none: a blip',
      series: { [MALFORMED('tcp')]: '0x5 0+2x3 6x16' },
    },
    firing: {
      name: '2 malformed lines of tcp a minute for 20 minutes',
      series: { [MALFORMED('tcp')]: '0+2x25', [MALFORMED('tcp6')]: '0x25' },
      expected: [
        {
          labels: warning({ file: 'tcp' }),
          description:
            'The exporter on web-1:10120 skipped 10 malformed lines of /proc/net/tcp in the last 5 minutes, and ' +
            'has for 10m: its socket counts are short by those sockets (fewer than 1% of the table; beyond that ' +
            'the table fails instead).',
        },
      ],
    },
    quiet: {
      name: 'malformed lines for 3 minutes, then none: a blip, not a damaged file',
      series: { [MALFORMED('tcp')]: '0x5 0+2x3 6x16' },
    },
    idle: {
      name: 'no malformed line',
      series: { [MALFORMED('tcp')]: '0x25', [MALFORMED('tcp6')]: '0x25' },
    },
    reset: {
      name: 'a restart drops the counter from 40 to 0, and no line is malformed after it',
      series: { [MALFORMED('tcp')]: '40x8 0x17' },
    },
    absent: { name: 'an exporter without the counter', series: { [`up{${TARGET}}`]: '1x25' } },
  },
];

const SECOND_INSTANCE = 'web-2:10120';
const THIRD_INSTANCE = 'web-3:10120';

function onInstance<T>(value: T, instance: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(INSTANCE, instance)) as T;
}

/** web-1 and web-2 fire on their own, web-3 beside them in the quiet case stays quiet. */
function multiInstance(scenarios: AlertScenarios): Scenario {
  const { firing, quiet } = scenarios;
  return {
    name: `several exporters: ${firing.name} on two hosts, the quiet case on a third`,
    series: {
      ...firing.series,
      ...onInstance(firing.series, SECOND_INSTANCE),
      ...onInstance(quiet.series, THIRD_INSTANCE),
    },
    expected: [...firing.expected, ...onInstance(firing.expected, SECOND_INSTANCE)],
  };
}

function expand(scenarios: AlertScenarios): AlertCase[] {
  const { alert, evalTime } = scenarios;
  const cases: [CaseKind, Scenario][] = [
    ['firing', scenarios.firing],
    ['quiet', scenarios.quiet],
    ['idle', scenarios.idle],
    ['reset', scenarios.reset],
    ['absent', scenarios.absent],
    ['flapping', scenarios.flapping],
    ['burst', scenarios.burst],
    ['multi-instance', scenarios.multiInstance ?? multiInstance(scenarios)],
    ...(scenarios.more ?? []).map((more): [CaseKind, Scenario] => [more.kind, more]),
  ];
  return cases.map(([kind, scenario]) => ({
    name: scenario.name,
    alert,
    kind,
    series: scenario.series,
    evalTime,
    expected: scenario.expected ?? [],
  }));
}

export const ALERT_CASES: readonly AlertCase[] = [
  ...SCENARIOS,
  ...CONNTRACK_SCENARIOS,
  ...CONNECT_ERROR_SCENARIOS,
  ...COUNTER_SCENARIOS,
].flatMap(expand);
