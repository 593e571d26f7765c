/**
 * `promtool test rules` cases. Every alert has a firing case (with the exact labels and
 * description an operator would receive), a quiet case just short of its threshold, and the
 * cases that make alerts noisy in real fleets: an idle host, a restart or counter reset, a
 * series the rule needs being absent, and several exporters at once (generated from the
 * firing and quiet cases). Series use a 1 minute step; values are in promtool's expanding
 * notation.
 */
import { CONNTRACK_SCENARIOS } from './conntrack-alert-cases.js';

export interface ExpectedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
}

/** What a case shows; every alert needs one of each. */
export const CASE_KINDS = ['firing', 'quiet', 'idle', 'reset', 'absent', 'multi-instance'] as const;
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
  /** Replaces the generated multi-instance case where relabelling cannot express it. */
  readonly multiInstance?: Scenario;
  /** More cases of any kind (a second severity, a falling trend...). */
  readonly more?: readonly (Scenario & { readonly kind: CaseKind })[];
}

const INSTANCE = 'web-1:10120';
const TARGET = `job="tcpstate",instance="${INSTANCE}"`;
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
const TIME_WAIT_V6 = `tcpstate_sockets{${TARGET},family="ipv6",state="time_wait"}`;
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
const CLOSE_WAIT_IN = `tcpstate_local_port_sockets{${TARGET},port="9000",state="close_wait"}`;
const CLOSE_WAIT_OUT = `tcpstate_remote_port_sockets{${TARGET},port="5432",state="close_wait"}`;
const CLOSE_WAIT_OTHER = `tcpstate_local_port_sockets{${TARGET},port="other",state="close_wait"}`;
const COLLECTOR = (name: string): string =>
  `tcpstate_collector_success{${TARGET},collector="${name}"}`;
const LAST_SAMPLE = `tcpstate_last_sample_timestamp_seconds{${TARGET}}`;
const MALFORMED = (file: string): string =>
  `tcpstate_malformed_lines_total{${TARGET},file="${file}"}`;
const INTERVAL = `tcpstate_sample_interval_seconds{${TARGET}}`;

/** A pod's network namespace as the netns collector labels it. */
const POD_LABELS = {
  netns: '4026532301',
  pod: 'web-7d9f8-x2x5q',
  namespace: 'shop',
  container: 'php-fpm',
} as const;
const POD = Object.entries(POD_LABELS)
  .map(([name, value]) => `${name}="${value}"`)
  .join(',');
const POD_OWNER = 'pod shop/web-7d9f8-x2x5q (container php-fpm) on web-1:10120';
const POD_USED = `tcpstate_netns_ephemeral_ports_used{${TARGET},${POD},${DESTINATION}}`;
const POD_USABLE = `tcpstate_netns_ephemeral_ports_usable{${TARGET},${POD}}`;
const POD_OVERFLOWS = `tcpstate_netns_timewait_overflows_total{${TARGET},${POD}}`;
const POD_TIME_WAIT = `tcpstate_netns_sockets{${TARGET},${POD},family="ipv4",state="time_wait"}`;
/** Plain Docker: no pod, the short container ID (Prometheus drops the empty labels). */
const CONTAINER = 'netns="4026532302",container="3f2a9c1b7d4e"';
const assumed = (netns: string): string =>
  `tcpstate_netns_sysctls_assumed{${TARGET},netns="${netns}"}`;
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

const SCENARIOS: readonly AlertScenarios[] = [
  {
    alert: 'TcpStateEphemeralPortsExhausted',
    evalTime: '5m',
    firing: {
      name: 'every usable port toward one destination is blocked',
      series: { [USED]: '1000x10', [USABLE]: '1000x10' },
      expected: [
        {
          labels: critical(DESTINATION_LABELS),
          description:
            'web-1:10120: all 1000 usable ephemeral ports toward 10.0.0.9 port 9000 (from local address 10.0.0.5) ' +
            'are held by sockets that block connect() to it (TIME_WAIT that tcp_tw_reuse can take over is not ' +
            'counted). New connect() calls to this destination fail with EADDRNOTAVAIL ("Cannot assign requested ' +
            'address") and proxies answer 502.',
        },
      ],
    },
    quiet: {
      name: 'ten ports left is not exhaustion',
      series: { [USED]: '990x10', [USABLE]: '1000x10' },
    },
    idle: { name: 'no outgoing connections', series: { [USED]: '0x10', [USABLE]: '28232x10' } },
    reset: {
      name: 'the exporter restarted a minute ago (a sample of zeros): not yet held for 1m',
      series: { [USED]: '1000x3 0 1000x5', [USABLE]: '1000x3 0 1000x5' },
    },
    absent: {
      name: 'no usable count (ephemeral collector failing): nothing to compare with',
      series: { [USED]: '1000x10' },
    },
  },
  {
    alert: 'TcpStateEphemeralPortsNearlyExhausted',
    evalTime: '8m',
    firing: {
      name: '85 % of the ports toward one destination blocked for 5 minutes',
      series: { [USED]: '850x10', [USABLE]: '1000x10' },
      expected: [
        {
          labels: critical(DESTINATION_LABELS),
          description:
            'web-1:10120: 85% of the 1000 usable ephemeral ports toward 10.0.0.9 port 9000 (from local address ' +
            '10.0.0.5) are held by sockets that block connect() to it (TIME_WAIT that tcp_tw_reuse can take over ' +
            'is not counted). A burst of new connections exhausts the rest, and then connect() to this ' +
            'destination fails with EADDRNOTAVAIL.',
        },
      ],
    },
    quiet: {
      name: '79 % is below the critical share',
      series: { [USED]: '790x10', [USABLE]: '1000x10' },
    },
    idle: { name: 'no outgoing connections', series: { [USED]: '0x10', [USABLE]: '28232x10' } },
    reset: {
      name: 'the exporter restarted 3 minutes ago: not yet held for 5m',
      series: { [USED]: '850x4 0 850x5', [USABLE]: '1000x4 0 1000x5' },
    },
    absent: { name: 'no usable count', series: { [USED]: '850x10' } },
    more: [
      {
        kind: 'quiet',
        name: 'at 100 % the exhausted alert pages instead',
        series: { [USED]: '1000x10', [USABLE]: '1000x10' },
      },
    ],
  },
  {
    alert: 'TcpStateEphemeralPortsExhaustionPredicted',
    evalTime: '230m',
    firing: {
      name: 'blocking use rising 15 ports a minute from 33 % reaches 9000 within 4 hours',
      series: { [USED]: '3000+15x300', [USABLE]: '9000x300' },
      expected: [
        {
          labels: warning(DESTINATION_LABELS),
          description:
            'web-1:10120: 71.67% of the 9000 usable ephemeral ports toward 10.0.0.9 port 9000 (from local address ' +
            '10.0.0.5) are held by sockets that block connect(), and the trend of the last 6h reaches all of them ' +
            'within 4h. Then connect() to this destination fails with EADDRNOTAVAIL.',
        },
      ],
    },
    quiet: {
      name: 'a flat series at 70 % never fires',
      series: { [USED]: '6300x300', [USABLE]: '9000x300' },
    },
    idle: { name: 'no outgoing connections', series: { [USED]: '0x300', [USABLE]: '9000x300' } },
    reset: {
      name: 'a restart (a sample of zeros) half an hour ago restarts the hour the trend must hold',
      series: { [USED]: '3000+15x199 0 6015+15x99', [USABLE]: '9000x300' },
    },
    absent: { name: 'no usable count', series: { [USED]: '3000+15x300' } },
    more: [
      {
        kind: 'quiet',
        name: 'a falling series does not fire',
        series: { [USED]: '7000-5x300', [USABLE]: '9000x300' },
      },
      {
        kind: 'quiet',
        name: 'a steep 30-minute burst below half the ports is noise',
        series: { [USED]: '1000x199 1000+40x30 2200x70', [USABLE]: '9000x300' },
      },
    ],
  },
  {
    alert: 'TcpStateEphemeralPortHeadroomLow',
    evalTime: '20m',
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
            'web-1:10120 has only 40% of its 1000 usable ephemeral ports left toward its busiest destination ' +
            '(10.0.0.9 port 9000 from local address 10.0.0.5, 600 ports blocked).',
        },
      ],
    },
    quiet: { name: 'headroom of 60 %', series: { [HEADROOM]: '0.6x30', [USABLE]: '1000x30' } },
    idle: { name: 'all ports free', series: { [HEADROOM]: '1x30', [USABLE]: '28232x30' } },
    reset: {
      name: 'the exporter restarted 8 minutes ago (one sample at full headroom)',
      series: { [HEADROOM]: '0.4x11 1 0.4x18', [USABLE]: '1000x30' },
    },
    absent: {
      name: 'ephemeral collector failing: no headroom series',
      series: { [USABLE]: '1000x30' },
    },
    more: [
      {
        kind: 'quiet',
        name: 'headroom of 10 % is the critical alerts’ range, not this warning’s',
        series: { [HEADROOM]: '0.1x30', [USABLE]: '1000x30' },
      },
    ],
  },
  {
    alert: 'TcpStateEphemeralPortsHeldHigh',
    evalTime: '20m',
    firing: {
      name: '90 % of the usable ports held, over many destinations, for 20 minutes',
      series: { [HELD]: '900x30', [USED_MAX]: '100x30', [USABLE]: '1000x30' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120: 90% of its 1000 usable ephemeral ports are held by some socket. A client that binds its ' +
            'local address before connect() (nginx proxy_bind, HAProxy source) needs a port free toward every ' +
            'destination at once, and fails with EADDRINUSE when none is.',
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
            description:
              'web-1:10120: 100% of its 1000 usable ephemeral ports are held by some socket. A client that binds ' +
              'its local address before connect() (nginx proxy_bind, HAProxy source) needs a port free toward ' +
              'every destination at once, and fails with EADDRINUSE when none is.',
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
    alert: 'TcpStatePodEphemeralPortsExhausted',
    evalTime: '5m',
    firing: {
      name: 'every usable port of a pod toward one destination is blocked',
      series: { [POD_USED]: '28232x10', [POD_USABLE]: '28232x10' },
      expected: [
        {
          labels: critical({ ...POD_LABELS, ...DESTINATION_LABELS }),
          description:
            `${POD_OWNER}: all 28232 usable ephemeral ports of its network namespace toward 10.0.0.9 port 9000 ` +
            '(from local address 10.0.0.5) are held by sockets that block connect() to it (TIME_WAIT that ' +
            'tcp_tw_reuse can take over is not counted). New connect() calls from the pod to this destination ' +
            'fail with EADDRNOTAVAIL ("Cannot assign requested address").',
        },
      ],
    },
    quiet: {
      name: 'a few hundred ports left is not exhaustion',
      series: { [POD_USED]: '28000x10', [POD_USABLE]: '28232x10' },
    },
    idle: {
      name: 'a pod with no outgoing connections',
      series: { [POD_USED]: '0x10', [POD_USABLE]: '28232x10' },
    },
    reset: {
      name: 'the exporter restarted a minute ago (a round of zeros): not yet held for 1m',
      series: { [POD_USED]: '28232x3 0 28232x5', [POD_USABLE]: '28232x3 0 28232x5' },
    },
    absent: {
      name: 'no usable count for the namespace: nothing to compare with',
      series: { [POD_USED]: '28232x10' },
    },
    more: [
      {
        kind: 'firing',
        name: 'a plain Docker container (no pod) is named by its container ID',
        series: {
          [`tcpstate_netns_ephemeral_ports_used{${TARGET},${CONTAINER},${DESTINATION}}`]: '100x10',
          [`tcpstate_netns_ephemeral_ports_usable{${TARGET},${CONTAINER}}`]: '100x10',
        },
        expected: [
          {
            labels: critical({
              netns: '4026532302',
              container: '3f2a9c1b7d4e',
              ...DESTINATION_LABELS,
            }),
            description:
              'container 3f2a9c1b7d4e on web-1:10120: all 100 usable ephemeral ports of its network namespace ' +
              'toward 10.0.0.9 port 9000 (from local address 10.0.0.5) are held by sockets that block connect() ' +
              'to it (TIME_WAIT that tcp_tw_reuse can take over is not counted). New connect() calls from the pod ' +
              'to this destination fail with EADDRNOTAVAIL ("Cannot assign requested address").',
          },
        ],
      },
      {
        kind: 'quiet',
        name: 'the node’s own exhaustion is the node alert’s, not a pod’s',
        series: { [USED]: '1000x10', [USABLE]: '1000x10' },
      },
    ],
  },
  {
    alert: 'TcpStatePodEphemeralPortHeadroomLow',
    evalTime: '20m',
    firing: {
      name: '60 % of a pod’s ports toward one destination blocked for 20 minutes',
      series: { [POD_USED]: '600x30', [POD_USABLE]: '1000x30' },
      expected: [
        {
          labels: warning({ ...POD_LABELS, ...DESTINATION_LABELS }),
          description:
            `${POD_OWNER}: 60% of the 1000 usable ephemeral ports of its network namespace toward 10.0.0.9 port ` +
            '9000 (from local address 10.0.0.5) are held by sockets that block connect() to it. Once all are, ' +
            'connect() from the pod to this destination fails with EADDRNOTAVAIL.',
        },
      ],
    },
    quiet: {
      name: '40 % blocked leaves headroom',
      series: { [POD_USED]: '400x30', [POD_USABLE]: '1000x30' },
    },
    idle: {
      name: 'a pod with no outgoing connections',
      series: { [POD_USED]: '0x30', [POD_USABLE]: '28232x30' },
    },
    reset: {
      name: 'the exporter restarted 8 minutes ago: not yet held for 15m',
      series: { [POD_USED]: '600x11 0 600x18', [POD_USABLE]: '1000x11 0 1000x18' },
    },
    absent: { name: 'no usable count for the namespace', series: { [POD_USED]: '600x30' } },
    more: [
      {
        kind: 'firing',
        name: '85 % blocked for 10 minutes is critical',
        series: { [POD_USED]: '850x30', [POD_USABLE]: '1000x30' },
        expected: [
          {
            labels: critical({ ...POD_LABELS, ...DESTINATION_LABELS }),
            description:
              `${POD_OWNER}: 85% of the 1000 usable ephemeral ports of its network namespace toward 10.0.0.9 ` +
              'port 9000 (from local address 10.0.0.5) are held by sockets that block connect() to it. Once all ' +
              'are, connect() from the pod to this destination fails with EADDRNOTAVAIL.',
          },
        ],
      },
      {
        kind: 'quiet',
        name: 'at 100 % the exhausted alert pages instead',
        series: { [POD_USED]: '1000x30', [POD_USABLE]: '1000x30' },
      },
    ],
  },
  {
    alert: 'TcpStatePodTimeWaitOverflow',
    evalTime: '13m',
    firing: {
      name: 'overflows in the pod’s namespace in the last five minutes',
      series: { [POD_OVERFLOWS]: '100x10 150 200 250' },
      expected: [
        {
          labels: warning(POD_LABELS),
          description:
            `${POD_OWNER}: the kernel dropped 150 TIME_WAIT sockets of its network namespace in the last 5m ` +
            "because the namespace's net.ipv4.tcp_max_tw_buckets was reached. Those connections lose their " +
            'TIME_WAIT guard: late segments can reach a new connection on the same ports.',
        },
      ],
    },
    quiet: {
      name: 'old overflows, none in the last five minutes',
      series: { [POD_OVERFLOWS]: '100x15' },
    },
    idle: { name: 'never overflowed', series: { [POD_OVERFLOWS]: '0x15' } },
    reset: {
      name: 'a namespace inode reused by a new pod restarts its counter: not an overflow',
      series: { [POD_OVERFLOWS]: '100x5 0x10' },
    },
    absent: {
      name: 'the namespace’s netstat unread: sockets only',
      series: { [POD_TIME_WAIT]: '100x15' },
    },
  },
  {
    alert: 'TcpStatePodSysctlsAssumed',
    evalTime: '40m',
    firing: {
      name: 'two namespaces’ sysctls unread for 40 minutes',
      series: { [assumed('4026532301')]: '1x40', [assumed('4026532302')]: '1x40' },
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
    firing: {
      name: '12 namespaces beyond the limit for 40 minutes',
      series: { [NAMESPACES('dropped')]: '12x40', [NAMESPACES('exported')]: '100x40' },
      expected: [
        {
          labels: warning(),
          description:
            'The exporter on web-1:10120 leaves 12 network namespaces out, beyond the 100 it exports ' +
            '(--collector.netns.max, those with the most sockets first): their pods have no per-pod series and ' +
            'no alerts.',
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
      name: 'pods stopped 23 minutes ago for a minute: not crowded for 30m since',
      series: { [NAMESPACES('dropped')]: '12x15 0 12x24', [NAMESPACES('exported')]: '100x40' },
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
      name: 'TIME_WAIT of both families together at 87.5 % of tcp_max_tw_buckets',
      series: {
        [TIME_WAIT_V4]: '5000x30',
        [TIME_WAIT_V6]: '2000x30',
        [ESTABLISHED_V4]: '50000x30',
        [BUCKETS]: '8000x30',
        [sysctl('net.ipv4.ip_local_port_range.low')]: '32768x30',
      },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 holds 87.5% of net.ipv4.tcp_max_tw_buckets (8000) in TIME_WAIT. Above the limit the ' +
            'kernel destroys new TIME_WAIT sockets at once.',
        },
      ],
    },
    quiet: {
      name: 'TIME_WAIT at 62 % of the limit, whatever else is open',
      series: {
        [TIME_WAIT_V4]: '3000x30',
        [TIME_WAIT_V6]: '2000x30',
        [ESTABLISHED_V4]: '50000x30',
        [BUCKETS]: '8000x30',
      },
    },
    idle: {
      name: 'no TIME_WAIT',
      series: { [TIME_WAIT_V4]: '0x30', [TIME_WAIT_V6]: '0x30', [BUCKETS]: '262144x30' },
    },
    reset: {
      name: 'the exporter restarted 9 minutes ago',
      series: { [TIME_WAIT_V4]: '7000x10 0 7000x19', [TIME_WAIT_V6]: '0x30', [BUCKETS]: '8000x30' },
    },
    absent: {
      name: 'sysctl collector failing: no limit to compare with',
      series: { [TIME_WAIT_V4]: '7000x30', [TIME_WAIT_V6]: '0x30' },
    },
    more: [
      {
        kind: 'firing',
        name: 'at 97.5 % it is critical, as in doctor, and only critical',
        series: { [TIME_WAIT_V4]: '7800x30', [TIME_WAIT_V6]: '0x30', [BUCKETS]: '8000x30' },
        expected: [
          {
            labels: critical(),
            description:
              'web-1:10120 holds 97.5% of net.ipv4.tcp_max_tw_buckets (8000) in TIME_WAIT. Above the limit the ' +
              'kernel destroys new TIME_WAIT sockets at once.',
          },
        ],
      },
    ],
  },
  {
    alert: 'TcpStateTimeWaitOverflow',
    evalTime: '13m',
    firing: {
      name: 'overflows in the last five minutes',
      series: { [counter('tcpstate_timewait_overflows_total')]: '100x10 150 200 250' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 dropped 150 TIME_WAIT sockets in the last 5m because net.ipv4.tcp_max_tw_buckets was ' +
            'reached. Those connections lose their TIME_WAIT guard: late segments can reach a new connection on ' +
            'the same ports.',
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
  },
  {
    alert: 'TcpStateListenQueueOverflowing',
    evalTime: '20m',
    firing: {
      name: 'a listen queue overflowing once a second for 20 minutes',
      series: { [counter('tcpstate_listen_overflows_total')]: '0+60x30' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 drops 1 incoming connections/s because the accept queue of a listening socket is full: ' +
            'the application does not accept() fast enough or its backlog is too small.',
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
  },
  {
    alert: 'TcpStateListenQueueFull',
    evalTime: '10m',
    firing: {
      name: 'port 8080 keeps connections waiting while accept queues overflow, port 9000 does not',
      series: {
        [QUEUE_LENGTH]: '129x10',
        [`tcpstate_listen_queue_length{${TARGET},port="9000"}`]: '0x10',
        [OVERFLOWS]: '0+60x10',
      },
      expected: [
        {
          labels: warning({ port: '8080' }),
          description:
            'web-1:10120: 129 connections wait in the accept queue of port 8080 while the host drops connections ' +
            'at full accept queues: that program does not accept() in time, or its backlog is too small.',
        },
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
  },
  {
    alert: 'TcpStateSynQueueOverflowing',
    evalTime: '20m',
    firing: {
      name: 'a SYN dropped every second for 20 minutes',
      series: { [counter('tcpstate_syn_queue_full_drops_total')]: '0+60x30' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 drops 1 SYNs/s because a listener’s SYN queue is full and no SYN cookie was sent ' +
            '(net.ipv4.tcp_syncookies off, or the queue is full of cookies too). Clients retry after a second or ' +
            'more, or fail.',
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
    evalTime: '20m',
    firing: {
      name: 'five SYN cookies a second for 20 minutes',
      series: { [counter('tcpstate_syncookies_sent_total')]: '0+300x30' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 sends 5 SYN cookies/s: a listener’s SYN queue is full, from a SYN flood or a backlog too ' +
            'small for the load. Connections still open, but the queue is not absorbing the load.',
        },
      ],
    },
    quiet: {
      name: 'half a cookie a second (a scan, a burst)',
      series: { [counter('tcpstate_syncookies_sent_total')]: '0+30x30' },
    },
    idle: { name: 'no cookies', series: { [counter('tcpstate_syncookies_sent_total')]: '0x30' } },
    reset: {
      name: 'a counter reset by a reboot',
      series: { [counter('tcpstate_syncookies_sent_total')]: '100000x10 0x20' },
    },
    absent: { name: 'netstat collector failing', series: { [TIME_WAIT_V4]: '0x30' } },
  },
  {
    alert: 'TcpStateOrphansNearLimit',
    evalTime: '10m',
    firing: {
      name: 'orphans at 61 % of tcp_max_orphans',
      series: { [ORPHANS]: '40000x10', [MAX_ORPHANS]: '65536x10' },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 holds orphaned sockets (closed by their program, still closing in TCP) at 61.04% of ' +
            'net.ipv4.tcp_max_orphans (65536). The kernel resets such connections from half the limit on, and ' +
            'all of them at the limit ("too many orphaned sockets").',
        },
      ],
    },
    quiet: {
      name: 'orphans at 15 %',
      series: { [ORPHANS]: '10000x10', [MAX_ORPHANS]: '65536x10' },
    },
    idle: { name: 'no orphans', series: { [ORPHANS]: '0x10', [MAX_ORPHANS]: '65536x10' } },
    reset: {
      name: 'the exporter restarted 4 minutes ago',
      series: { [ORPHANS]: '40000x5 0 40000x4', [MAX_ORPHANS]: '65536x10' },
    },
    absent: { name: 'no tcp_max_orphans exported', series: { [ORPHANS]: '40000x10' } },
    more: [
      {
        kind: 'firing',
        name: 'orphans at the limit are critical, as in doctor, and only critical',
        series: { [ORPHANS]: '4096x10', [MAX_ORPHANS]: '4096x10' },
        expected: [
          {
            labels: critical(),
            description:
              'web-1:10120 holds orphaned sockets (closed by their program, still closing in TCP) at 100% of ' +
              'net.ipv4.tcp_max_orphans (4096). The kernel resets such connections from half the limit on, and ' +
              'all of them at the limit ("too many orphaned sockets").',
          },
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
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120: TCP memory is at or above the pressure level of net.ipv4.tcp_mem (host-wide), or TCP ' +
            'entered memory pressure in the last 5m, for 5m. The kernel shrinks socket buffers, so throughput falls.',
        },
      ],
    },
    quiet: {
      name: 'half the pressure level, no pressure entered',
      series: {
        [MEM_PAGES]: '45000x10',
        [MEM_PRESSURE]: '90000x10',
        [counter('tcpstate_memory_pressures_total')]: '3x10',
      },
    },
    idle: {
      name: 'no TCP memory in use',
      series: { [MEM_PAGES]: '0x10', [MEM_PRESSURE]: '90000x10' },
    },
    reset: {
      name: 'the exporter restarted 4 minutes ago, and a counter reset by a reboot',
      series: {
        [MEM_PAGES]: '99000x5 0 99000x4',
        [MEM_PRESSURE]: '90000x10',
        [counter('tcpstate_memory_pressures_total')]: '50x5 0x5',
      },
    },
    absent: {
      name: 'no pressure level (a container: tcp_mem is host-only) and no counter',
      series: { [MEM_PAGES]: '99000x10' },
    },
    more: [
      {
        kind: 'firing',
        name: 'entering pressure again and again, between samples that never saw it',
        series: {
          [MEM_PAGES]: '1000x10',
          [MEM_PRESSURE]: '90000x10',
          [counter('tcpstate_memory_pressures_total')]: '0+1x10',
        },
        expected: [
          {
            labels: warning(),
            description:
              'web-1:10120: TCP memory is at or above the pressure level of net.ipv4.tcp_mem (host-wide), or TCP ' +
              'entered memory pressure in the last 5m, for 5m. The kernel shrinks socket buffers, so throughput ' +
              'falls.',
          },
        ],
      },
    ],
  },
  {
    alert: 'TcpStateMemoryExhausted',
    evalTime: '10m',
    firing: {
      name: 'TCP memory at tcp_mem’s maximum',
      series: {
        [MEM_PAGES]: '121000x10',
        [MEM_MAX]: '120000x10',
        [counter('tcpstate_memory_aborts_total')]: '0x10',
      },
      expected: [
        {
          labels: critical(),
          description:
            'web-1:10120: TCP buffers reached net.ipv4.tcp_mem’s maximum, or the kernel aborted connections for ' +
            'lack of memory in the last 5m (TCPAbortOnMemory). Connections are reset and new data is dropped.',
        },
      ],
    },
    quiet: {
      name: 'below the maximum, no aborts',
      series: {
        [MEM_PAGES]: '100000x10',
        [MEM_MAX]: '120000x10',
        [counter('tcpstate_memory_aborts_total')]: '7x10',
      },
    },
    idle: {
      name: 'no TCP memory in use',
      series: {
        [MEM_PAGES]: '0x10',
        [MEM_MAX]: '120000x10',
        [counter('tcpstate_memory_aborts_total')]: '0x10',
      },
    },
    reset: {
      name: 'an abort counter reset by a reboot',
      series: {
        [MEM_PAGES]: '100x10',
        [MEM_MAX]: '120000x10',
        [counter('tcpstate_memory_aborts_total')]: '500x6 0x4',
      },
    },
    absent: {
      name: 'no tcp_mem maximum and no abort counter',
      series: { [MEM_PAGES]: '121000x10' },
    },
    more: [
      {
        kind: 'firing',
        name: 'connections aborted for memory in the last five minutes',
        series: {
          [MEM_PAGES]: '100000x10',
          [MEM_MAX]: '120000x10',
          [counter('tcpstate_memory_aborts_total')]: '7x7 9 12 15',
        },
        expected: [
          {
            labels: critical(),
            description:
              'web-1:10120: TCP buffers reached net.ipv4.tcp_mem’s maximum, or the kernel aborted connections for ' +
              'lack of memory in the last 5m (TCPAbortOnMemory). Connections are reset and new data is dropped.',
          },
        ],
      },
    ],
  },
  {
    alert: 'TcpStatePawsRejectsRising',
    evalTime: '20m',
    firing: {
      name: 'PAWS rejects of established and TIME_WAIT stages together past one a second',
      series: {
        [counter('tcpstate_paws_rejected_total', 'stage="established"')]: '0+36x30',
        [counter('tcpstate_paws_rejected_total', 'stage="timewait"')]: '0+36x30',
        [counter('tcpstate_paws_rejected_total', 'stage="active"')]: '0x30',
      },
      expected: [
        {
          labels: warning(),
          description:
            'web-1:10120 rejects 1.2 segments/s (established, SYN-ACK and TIME_WAIT stages together) because their ' +
            'TCP timestamp is older than one already seen from that peer. Usually several clients share one NAT ' +
            'address with unrelated timestamp clocks; their connections stall or fail.',
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
  },
  {
    alert: 'TcpStateCloseWaitAccumulating',
    evalTime: '20m',
    firing: {
      name: 'CLOSE_WAIT piling up on a service port and toward an upstream port, not on "other"',
      series: {
        [CLOSE_WAIT_IN]: '150x30',
        [CLOSE_WAIT_OUT]: '200x30',
        [CLOSE_WAIT_OTHER]: '500x30',
        [`tcpstate_local_port_sockets{${TARGET},port="80",state="established"}`]: '5000x30',
      },
      expected: [
        {
          labels: warning({ direction: 'inbound', port: '9000', state: 'close_wait' }),
          description:
            'web-1:10120 holds 150 sockets in CLOSE_WAIT on its service port 9000: the peer closed them but the ' +
            'application never called close(). This is a socket leak that ends in file-descriptor exhaustion.',
        },
        {
          labels: warning({ direction: 'outbound', port: '5432', state: 'close_wait' }),
          description:
            'web-1:10120 holds 200 sockets in CLOSE_WAIT toward remote port 5432: the peer closed them but the ' +
            'application never called close(). This is a socket leak that ends in file-descriptor exhaustion.',
        },
      ],
    },
    quiet: {
      name: 'a few CLOSE_WAIT sockets, and many only in "other"',
      series: { [CLOSE_WAIT_IN]: '15x30', [CLOSE_WAIT_OTHER]: '500x30' },
    },
    idle: { name: 'none', series: { [CLOSE_WAIT_IN]: '0x30', [CLOSE_WAIT_OUT]: '0x30' } },
    reset: {
      name: 'a restart of the leaking program 10 minutes ago released them',
      series: { [CLOSE_WAIT_IN]: '150x10 0 150x19' },
    },
    absent: { name: 'ports collector failing', series: { [TIME_WAIT_V4]: '0x30' } },
    more: [
      {
        kind: 'firing',
        name: 'half the default file limit in CLOSE_WAIT is critical, as in doctor, and only critical',
        series: { [CLOSE_WAIT_IN]: '600x30' },
        expected: [
          {
            labels: critical({ direction: 'inbound', port: '9000', state: 'close_wait' }),
            description:
              'web-1:10120 holds 600 sockets in CLOSE_WAIT on its service port 9000: the peer closed them but the ' +
              'application never called close(). This is a socket leak that ends in file-descriptor exhaustion.',
          },
        ],
      },
    ],
  },
  {
    alert: 'TcpStateCollectorFailing',
    evalTime: '8m',
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

export const ALERT_CASES: readonly AlertCase[] = [...SCENARIOS, ...CONNTRACK_SCENARIOS].flatMap(
  expand,
);
