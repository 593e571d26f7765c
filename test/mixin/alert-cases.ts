/**
 * `promtool test rules` cases: for every alert at least one case where it fires (with the
 * exact labels and description an operator would receive) and one where it must stay quiet.
 * Series use a 1 minute step; values are in promtool's expanding notation.
 */

export interface ExpectedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
}

export interface AlertCase {
  readonly name: string;
  readonly alert: string;
  readonly series: Readonly<Record<string, string>>;
  readonly evalTime: string;
  /** Empty: the alert must not be firing at evalTime. */
  readonly expected: readonly ExpectedAlert[];
}

const TARGET = 'job="tcpstate",instance="web-1:10120"';
const TARGET_LABELS = { job: 'tcpstate', instance: 'web-1:10120' } as const;
const DESTINATION = 'local_address="10.0.0.5",remote_address="10.0.0.9",remote_port="9000"';
const DESTINATION_LABELS = {
  local_address: '10.0.0.5',
  remote_address: '10.0.0.9',
  remote_port: '9000',
} as const;
const USED = `tcpstate_ephemeral_ports_used{${TARGET},${DESTINATION}}`;
const USABLE = `tcpstate_ephemeral_ports_usable{${TARGET}}`;

export const ALERT_CASES: readonly AlertCase[] = [
  {
    name: 'every usable port toward one destination is held',
    alert: 'TcpStateEphemeralPortsExhausted',
    series: { [USED]: '1000x10', [USABLE]: '1000x10' },
    evalTime: '5m',
    expected: [
      {
        labels: { severity: 'critical', ...TARGET_LABELS, ...DESTINATION_LABELS },
        description:
          'web-1:10120: all 1000 usable ephemeral ports toward 10.0.0.9 port 9000 (from local address 10.0.0.5) ' +
          'are held by sockets (TIME_WAIT included). New connect() calls to this destination fail with ' +
          'EADDRNOTAVAIL ("Cannot assign requested address") unless a TIME_WAIT socket can be reused.',
      },
    ],
  },
  {
    name: 'ten ports left is not exhaustion',
    alert: 'TcpStateEphemeralPortsExhausted',
    series: { [USED]: '990x10', [USABLE]: '1000x10' },
    evalTime: '5m',
    expected: [],
  },
  {
    name: 'use rising 10 ports a minute from 70 % reaches the limit within the hour',
    alert: 'TcpStateEphemeralPortsExhaustionPredicted',
    series: { [USED]: '400+10x40', [USABLE]: '1000x40' },
    evalTime: '30m',
    expected: [
      {
        labels: { severity: 'critical', ...TARGET_LABELS, ...DESTINATION_LABELS },
        description:
          'web-1:10120: 70% of the 1000 usable ephemeral ports toward 10.0.0.9 port 9000 (from local address ' +
          '10.0.0.5) are in use, and the trend of the last 30m reaches all of them within an hour. Then ' +
          'connect() to this destination fails with EADDRNOTAVAIL and proxies answer 502.',
      },
    ],
  },
  {
    name: 'a flat series never pages, even at 90 % or full',
    alert: 'TcpStateEphemeralPortsExhaustionPredicted',
    series: {
      [USED]: '900x40',
      [`tcpstate_ephemeral_ports_used{${TARGET},local_address="10.0.0.5",remote_address="10.0.0.10",remote_port="9000"}`]:
        '1000x40',
      [USABLE]: '1000x40',
    },
    evalTime: '30m',
    expected: [],
  },
  {
    name: 'a falling series does not page',
    alert: 'TcpStateEphemeralPortsExhaustionPredicted',
    series: { [USED]: '990-10x40', [USABLE]: '1000x40' },
    evalTime: '30m',
    expected: [],
  },
  {
    name: 'a steep trend below half the ports is noise, not a page',
    alert: 'TcpStateEphemeralPortsExhaustionPredicted',
    series: { [USED]: '100+10x40', [USABLE]: '1000x40' },
    evalTime: '30m',
    expected: [],
  },
  {
    name: 'headroom at 10 % for 20 minutes names the busiest destination',
    alert: 'TcpStateEphemeralPortHeadroomLow',
    series: {
      [`tcpstate_ephemeral_port_headroom_ratio{${TARGET}}`]: '0.1x30',
      [USED]: '900x30',
      [`tcpstate_ephemeral_ports_used{${TARGET},local_address="10.0.0.5",remote_address="10.0.0.20",remote_port="5432"}`]:
        '100x30',
      [USABLE]: '1000x30',
    },
    evalTime: '20m',
    expected: [
      {
        labels: { severity: 'warning', ...TARGET_LABELS },
        description:
          'web-1:10120 has only 10% of its 1000 usable ephemeral ports left toward its busiest destination ' +
          '(10.0.0.9 port 9000 from local address 10.0.0.5, 900 ports in use).',
      },
    ],
  },
  {
    name: 'headroom of 30 %, or a low dip shorter than 15 minutes, is quiet',
    alert: 'TcpStateEphemeralPortHeadroomLow',
    series: {
      [`tcpstate_ephemeral_port_headroom_ratio{${TARGET}}`]: '0.3x30',
      'tcpstate_ephemeral_port_headroom_ratio{job="tcpstate",instance="web-2:10120"}':
        '0.5x12 0.1x18',
    },
    evalTime: '20m',
    expected: [],
  },
  {
    name: 'TIME_WAIT of both families together passes 80 % of tcp_max_tw_buckets',
    alert: 'TcpStateTimeWaitNearBucketLimit',
    series: {
      [`tcpstate_sockets{${TARGET},family="ipv4",state="time_wait"}`]: '5000x30',
      [`tcpstate_sockets{${TARGET},family="ipv6",state="time_wait"}`]: '2000x30',
      [`tcpstate_sockets{${TARGET},family="ipv4",state="established"}`]: '50000x30',
      [`tcpstate_sysctl{${TARGET},name="net.ipv4.tcp_max_tw_buckets"}`]: '8000x30',
      [`tcpstate_sysctl{${TARGET},name="net.ipv4.ip_local_port_range.low"}`]: '32768x30',
    },
    evalTime: '20m',
    expected: [
      {
        labels: { severity: 'warning', ...TARGET_LABELS },
        description:
          'web-1:10120 holds 87.5% of net.ipv4.tcp_max_tw_buckets (8000) in TIME_WAIT. Above the limit the ' +
          'kernel destroys new TIME_WAIT sockets at once.',
      },
    ],
  },
  {
    name: 'TIME_WAIT at 62 % of the limit, whatever else is open, is quiet',
    alert: 'TcpStateTimeWaitNearBucketLimit',
    series: {
      [`tcpstate_sockets{${TARGET},family="ipv4",state="time_wait"}`]: '3000x30',
      [`tcpstate_sockets{${TARGET},family="ipv6",state="time_wait"}`]: '2000x30',
      [`tcpstate_sockets{${TARGET},family="ipv4",state="established"}`]: '50000x30',
      [`tcpstate_sysctl{${TARGET},name="net.ipv4.tcp_max_tw_buckets"}`]: '8000x30',
    },
    evalTime: '20m',
    expected: [],
  },
  {
    name: 'overflows in the last five minutes page at once',
    alert: 'TcpStateTimeWaitOverflow',
    series: { [`tcpstate_timewait_overflows_total{${TARGET}}`]: '100x10 150 200 250' },
    evalTime: '13m',
    expected: [
      {
        labels: { severity: 'critical', ...TARGET_LABELS },
        description:
          'web-1:10120 dropped 150 TIME_WAIT sockets in the last 5m because net.ipv4.tcp_max_tw_buckets was ' +
          'reached (kernel log: "time wait bucket table overflow"). Those connections lose their TIME_WAIT ' +
          'guard: late segments can reach a new connection on the same ports.',
      },
    ],
  },
  {
    name: 'a flat overflow counter, or one reset by a reboot, is quiet',
    alert: 'TcpStateTimeWaitOverflow',
    series: {
      [`tcpstate_timewait_overflows_total{${TARGET}}`]: '100x15',
      'tcpstate_timewait_overflows_total{job="tcpstate",instance="web-2:10120"}': '100x5 0x10',
    },
    evalTime: '13m',
    expected: [],
  },
  {
    name: 'five PAWS rejects a second for 20 minutes',
    alert: 'TcpStatePawsRejectsRising',
    series: { [`tcpstate_paws_rejected_total{${TARGET},stage="established"}`]: '0+300x30' },
    evalTime: '20m',
    expected: [
      {
        labels: { severity: 'warning', ...TARGET_LABELS, stage: 'established' },
        description:
          'web-1:10120 rejects 5 segments/s in established connections because their TCP timestamp is older ' +
          'than one already seen from that peer. Usually several clients share one NAT address with unrelated ' +
          'timestamp clocks; their connections stall or fail.',
      },
    ],
  },
  {
    name: 'half a PAWS reject a second is quiet',
    alert: 'TcpStatePawsRejectsRising',
    series: { [`tcpstate_paws_rejected_total{${TARGET},stage="active"}`]: '0+30x30' },
    evalTime: '20m',
    expected: [],
  },
  {
    name: 'a listen queue overflowing once a second for 20 minutes',
    alert: 'TcpStateListenQueueOverflowing',
    series: { [`tcpstate_listen_overflows_total{${TARGET}}`]: '0+60x30' },
    evalTime: '20m',
    expected: [
      {
        labels: { severity: 'warning', ...TARGET_LABELS },
        description:
          'web-1:10120 drops 1 incoming connections/s because the accept queue of a listening socket is full: ' +
          'the application does not accept() fast enough or its backlog is too small.',
      },
    ],
  },
  {
    name: 'old listen overflows that stopped are quiet',
    alert: 'TcpStateListenQueueOverflowing',
    series: { [`tcpstate_listen_overflows_total{${TARGET}}`]: '500x30' },
    evalTime: '20m',
    expected: [],
  },
  {
    name: 'CLOSE_WAIT piling up on a service port and toward an upstream port, not on "other"',
    alert: 'TcpStateCloseWaitAccumulating',
    series: {
      [`tcpstate_local_port_sockets{${TARGET},port="9000",state="close_wait"}`]: '150x30',
      [`tcpstate_remote_port_sockets{${TARGET},port="5432",state="close_wait"}`]: '200x30',
      [`tcpstate_local_port_sockets{${TARGET},port="other",state="close_wait"}`]: '500x30',
      [`tcpstate_local_port_sockets{${TARGET},port="80",state="established"}`]: '5000x30',
    },
    evalTime: '20m',
    expected: [
      {
        labels: {
          severity: 'warning',
          ...TARGET_LABELS,
          direction: 'inbound',
          port: '9000',
          state: 'close_wait',
        },
        description:
          'web-1:10120 holds 150 sockets in CLOSE_WAIT on its service port 9000: the peer closed them but the ' +
          'application never called close(). This is a socket leak that ends in file-descriptor exhaustion.',
      },
      {
        labels: {
          severity: 'warning',
          ...TARGET_LABELS,
          direction: 'outbound',
          port: '5432',
          state: 'close_wait',
        },
        description:
          'web-1:10120 holds 200 sockets in CLOSE_WAIT toward remote port 5432: the peer closed them but the ' +
          'application never called close(). This is a socket leak that ends in file-descriptor exhaustion.',
      },
    ],
  },
  {
    name: 'a few CLOSE_WAIT sockets are quiet',
    alert: 'TcpStateCloseWaitAccumulating',
    series: {
      [`tcpstate_local_port_sockets{${TARGET},port="9000",state="close_wait"}`]: '50x30',
      [`tcpstate_local_port_sockets{${TARGET},port="other",state="close_wait"}`]: '500x30',
    },
    evalTime: '20m',
    expected: [],
  },
  {
    name: 'the netstat collector failing for 10 minutes',
    alert: 'TcpStateCollectorFailing',
    series: {
      [`tcpstate_collector_success{${TARGET},collector="netstat"}`]: '0x10',
      [`tcpstate_collector_success{${TARGET},collector="sockets"}`]: '1x10',
    },
    evalTime: '8m',
    expected: [
      {
        labels: { severity: 'warning', ...TARGET_LABELS, collector: 'netstat' },
        description:
          'The netstat collector of the exporter on web-1:10120 has failed for 5m; its series are absent, so ' +
          'dashboards and alerts built on them see nothing.',
      },
    ],
  },
  {
    name: 'a collector that failed for 3 minutes and recovered is quiet',
    alert: 'TcpStateCollectorFailing',
    series: { [`tcpstate_collector_success{${TARGET},collector="netstat"}`]: '0x3 1x10' },
    evalTime: '8m',
    expected: [],
  },
  {
    name: 'scrapes failing for 8 minutes',
    alert: 'TcpStateExporterDown',
    series: { [`up{${TARGET}}`]: '0x10' },
    evalTime: '8m',
    expected: [
      {
        labels: { severity: 'warning', ...TARGET_LABELS },
        description:
          'Scrapes of web-1:10120 (job tcpstate) have failed for 5m; TCP state alerts for this host cannot fire.',
      },
    ],
  },
  {
    name: 'a scraped exporter is quiet',
    alert: 'TcpStateExporterDown',
    series: { [`up{${TARGET}}`]: '1x10' },
    evalTime: '8m',
    expected: [],
  },
  {
    name: 'no tcpstate target at all, only other jobs',
    alert: 'TcpStateExporterAbsent',
    series: { 'up{job="node",instance="web-1:9100"}': '1x30' },
    evalTime: '20m',
    expected: [
      {
        labels: { severity: 'warning', job: 'tcpstate' },
        description:
          'No target matches up{job="tcpstate"} for 15m: service discovery or the scrape configuration lost ' +
          'the exporter, and no TCP state alert can fire.',
      },
    ],
  },
  {
    name: 'a tcpstate target, even a failing one, is not absent',
    alert: 'TcpStateExporterAbsent',
    series: { [`up{${TARGET}}`]: '0x30' },
    evalTime: '20m',
    expected: [],
  },
  {
    name: 'the last sample stuck at time 0',
    alert: 'TcpStateExporterSamplingStalled',
    series: { [`tcpstate_last_sample_timestamp_seconds{${TARGET}}`]: '0x20' },
    evalTime: '10m',
    expected: [
      {
        labels: { severity: 'warning', ...TARGET_LABELS },
        description:
          "The exporter on web-1:10120 last sampled the kernel's tables 10m 0s ago; every number it serves is that old.",
      },
    ],
  },
  {
    name: 'a sample every minute is fresh',
    alert: 'TcpStateExporterSamplingStalled',
    series: { [`tcpstate_last_sample_timestamp_seconds{${TARGET}}`]: '0+60x20' },
    evalTime: '10m',
    expected: [],
  },
];
