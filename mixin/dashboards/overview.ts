/**
 * The overview: how close each host is to running out of ephemeral ports, where its
 * sockets are, what the kernel counters say, and whether the exporter itself is healthy.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MixinConfig } from '../config.js';
import { DESTINATION_LABELS } from '../promql.js';
import {
  baseVariables,
  buildDashboard,
  DESTINATION_COLUMNS,
  newDashboard,
  organizeTable,
  portsUsedAgainstUsablePanel,
  query,
  row,
  SELECTED,
  statPanel,
  tablePanel,
  thresholdLine,
  thresholds,
  timeseriesPanel,
} from './common.js';

const RATE = '[$__rate_interval]';

function headroomThresholds(config: MixinConfig): dashboard.ThresholdsConfigBuilder {
  return thresholds([
    { value: null, color: 'red' },
    { value: config.ephemeral.headroomLowRatio, color: 'orange' },
    { value: Math.min(1, config.ephemeral.headroomLowRatio * 2), color: 'green' },
  ]);
}

export function overviewDashboard(config: MixinConfig): dashboard.Dashboard {
  const perDestination = `ignoring (${DESTINATION_LABELS.join(', ')}) group_left ()`;
  const builder = newDashboard(
    config,
    'overview',
    'TCP state / Overview',
    'Ephemeral-port headroom per destination, TCP socket states, TIME_WAIT against its limit, kernel TCP counters and the health of tcpstate-exporter.',
  )
    .variables(baseVariables())
    .withRow(row('Ephemeral ports: room for new outgoing connections'))
    .withPanel(
      statPanel({
        title: 'Lowest ephemeral port headroom',
        span: 6,
        description:
          'Share of usable ephemeral ports still free toward the busiest destination, on the worst selected host. ' +
          'Every outgoing connection takes a local port from net.ipv4.ip_local_port_range; the port stays taken while ' +
          'the socket exists and for 60 s in TIME_WAIT after this side closes first. A port can be reused only toward ' +
          'a different destination, so the busiest destination runs out first. At 0 % connect() to it fails with ' +
          '"Cannot assign requested address" (EADDRNOTAVAIL) and proxies answer 502.',
      })
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(headroomThresholds(config))
        .withTarget(
          query('A', `min(tcpstate_ephemeral_port_headroom_ratio{${SELECTED}})`, {
            legend: 'headroom',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Ephemeral port headroom per host',
        span: 18,
        description:
          'The same headroom over time, one line per host: 100 % means no outgoing connection holds a port, 0 % ' +
          'means the busiest destination has none left. The dashed lines are the warning level of the alerts. ' +
          'A steady fall during rising traffic is the early sign of port exhaustion; keep-alive connections to ' +
          'the upstream are the usual fix (see docs/runbooks.md).',
      })
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(headroomThresholds(config))
        .thresholdsStyle(thresholdLine())
        .withTarget(
          query('A', `tcpstate_ephemeral_port_headroom_ratio{${SELECTED}}`, {
            legend: '{{instance}}',
          }),
        ),
    )
    .withPanel(
      portsUsedAgainstUsablePanel(
        {
          title: 'Busiest destination: ports used and usable',
          span: 12,
          description:
            'Ports held toward the busiest destination (one local address, remote address and remote port) against ' +
            'the usable ports: the size of ip_local_port_range minus reserved ports and ports a listener has taken. ' +
            'When "used" meets "usable", new connections to that destination fail.',
        },
        `tcpstate_ephemeral_ports_used_max{${SELECTED}}`,
        '{{instance}} used (busiest destination)',
      ),
    )
    .withPanel(
      tablePanel({
        title: 'Busiest destinations',
        span: 12,
        description:
          'The destinations holding the most ephemeral ports right now, with the share of the usable ports each ' +
          'one holds. A destination near 100 % is the one whose connections will fail first: check which client ' +
          'talks to it (ss -tan state time-wait "( dport = :PORT )") and give it keep-alive connections.',
      })
        .withTarget(
          query('A', `topk(20, tcpstate_ephemeral_ports_used{${SELECTED}})`, { instant: true }),
        )
        .withTarget(
          query(
            'B',
            `topk(20, tcpstate_ephemeral_ports_used{${SELECTED}} / ${perDestination} tcpstate_ephemeral_ports_usable{${SELECTED}})`,
            { instant: true },
          ),
        )
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation(
          organizeTable({
            ...DESTINATION_COLUMNS,
            'Value #A': 'Ports used',
            'Value #B': 'Share of usable',
          }),
        )
        .overrideByName('Share of usable', [{ id: 'unit', value: 'percentunit' }]),
    )
    .withRow(row('Socket states'))
    .withPanel(
      timeseriesPanel({
        title: 'IPv4 sockets by state',
        span: 12,
        description:
          'TCP sockets in /proc/net/tcp by state, summed over the selected hosts. ESTABLISHED are open ' +
          'connections; TIME_WAIT are connections this side closed first, kept 60 s so late packets cannot reach ' +
          'a new connection; CLOSE_WAIT are connections the peer closed and the application has not closed yet; ' +
          'LISTEN are server sockets.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', `sum by (state) (tcpstate_sockets{${SELECTED},family="ipv4"})`, {
            legend: '{{state}}',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'IPv6 sockets by state',
        span: 12,
        description:
          'The same for /proc/net/tcp6. A dual-stack listener puts its IPv4 clients here too, as IPv4-mapped ' +
          'addresses (::ffff:a.b.c.d), so IPv4 traffic can appear in this panel.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', `sum by (state) (tcpstate_sockets{${SELECTED},family="ipv6"})`, {
            legend: '{{state}}',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'TIME_WAIT against tcp_max_tw_buckets',
        span: 12,
        description:
          'TIME_WAIT sockets of both families against net.ipv4.tcp_max_tw_buckets, the most the kernel keeps per ' +
          'network namespace. Above the limit it destroys new TIME_WAIT sockets at once and counts an overflow. ' +
          'TIME_WAIT always lasts 60 s; only fewer closed connections (keep-alive) make it smaller.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', `sum by (instance) (tcpstate_sockets{${SELECTED},state="time_wait"})`, {
            legend: '{{instance}} TIME_WAIT',
          }),
        )
        .withTarget(
          query('B', `tcpstate_sysctl{${SELECTED},name="net.ipv4.tcp_max_tw_buckets"}`, {
            legend: '{{instance}} tcp_max_tw_buckets',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Kernel socket summary (sockstat)',
        span: 12,
        description:
          'The O(1) summary from /proc/net/sockstat: inuse (sockets of this namespace), tw (TIME_WAIT of this ' +
          'namespace), orphan (closed by the application, still finishing) and alloc. orphan and alloc count the ' +
          'whole host, so they can differ from the per-state counts above.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', `sum by (family, kind) (tcpstate_sockstat_sockets{${SELECTED}})`, {
            legend: '{{family}} {{kind}}',
          }),
        ),
    )
    .withRow(row('Kernel TCP counters'))
    .withPanel(
      timeseriesPanel({
        title: 'TIME_WAIT sockets per second',
        span: 8,
        description:
          'How fast TIME_WAIT sockets come and go. entered: sockets put into TIME_WAIT for the full 60 s ' +
          '(the kernel counts them as the timer starts, TcpExt TW). short-lived: given a timeout of 4 s or less ' +
          '(TWKilled). reused: connect() took over a TIME_WAIT 4-tuple (net.ipv4.tcp_tw_reuse). overflow: ' +
          'destroyed at once because tcp_max_tw_buckets was reached; anything above zero there deserves attention.',
      })
        .unit('ops')
        .min(0)
        .withTarget(
          query('A', `sum(rate(tcpstate_timewait_finished_total{${SELECTED}}${RATE}))`, {
            legend: 'entered',
          }),
        )
        .withTarget(
          query('B', `sum(rate(tcpstate_timewait_killed_total{${SELECTED}}${RATE}))`, {
            legend: 'short-lived',
          }),
        )
        .withTarget(
          query('C', `sum(rate(tcpstate_timewait_reused_total{${SELECTED}}${RATE}))`, {
            legend: 'reused',
          }),
        )
        .withTarget(
          query('D', `sum(rate(tcpstate_timewait_overflows_total{${SELECTED}}${RATE}))`, {
            legend: 'overflow',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Connections opened and failed per second',
        span: 8,
        description:
          'active opens: outgoing connect() calls; passive opens: connections accepted from clients; failed ' +
          'attempts: connections that never got established; resets: established connections ended by a reset. ' +
          'Many active opens per second without keep-alive are what fill the ephemeral port range.',
      })
        .unit('ops')
        .min(0)
        .withTarget(
          query('A', `sum(rate(tcpstate_active_opens_total{${SELECTED}}${RATE}))`, {
            legend: 'active opens',
          }),
        )
        .withTarget(
          query('B', `sum(rate(tcpstate_passive_opens_total{${SELECTED}}${RATE}))`, {
            legend: 'passive opens',
          }),
        )
        .withTarget(
          query('C', `sum(rate(tcpstate_attempt_fails_total{${SELECTED}}${RATE}))`, {
            legend: 'failed attempts',
          }),
        )
        .withTarget(
          query('D', `sum(rate(tcpstate_established_resets_total{${SELECTED}}${RATE}))`, {
            legend: 'resets',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Rejected and dropped segments per second',
        span: 8,
        description:
          'PAWS rejects: segments dropped because their TCP timestamp went backwards, typical of many clients ' +
          'behind one NAT address. Listen overflows and drops: incoming connections lost because an accept ' +
          'queue was full; the application accepts too slowly or its listen backlog is too small.',
      })
        .unit('ops')
        .min(0)
        .withTarget(
          query('A', `sum by (stage) (rate(tcpstate_paws_rejected_total{${SELECTED}}${RATE}))`, {
            legend: 'PAWS rejected ({{stage}})',
          }),
        )
        .withTarget(
          query('B', `sum(rate(tcpstate_listen_overflows_total{${SELECTED}}${RATE}))`, {
            legend: 'listen overflows',
          }),
        )
        .withTarget(
          query('C', `sum(rate(tcpstate_listen_drops_total{${SELECTED}}${RATE}))`, {
            legend: 'listen drops',
          }),
        ),
    )
    .withRow(row('Exporter health and kernel settings'))
    .withPanel(
      statPanel({
        title: 'Collectors',
        span: 8,
        description:
          'Whether each part of the exporter read its kernel source on the last sample (sockets, ports, ' +
          'ephemeral, sockstat, netstat, sysctl). A failing collector drops its metrics instead of showing old ' +
          'numbers; the exporter log says why.',
      })
        // A status tile, not a trend.
        .graphMode(common.BigValueGraphMode.None)
        .colorMode(common.BigValueColorMode.Background)
        .mappings([
          {
            type: dashboard.MappingType.ValueToText,
            options: {
              '0': { text: 'failing', color: 'red', index: 0 },
              '1': { text: 'ok', color: 'green', index: 1 },
            },
          },
        ])
        .withTarget(
          query('A', `tcpstate_collector_success{${SELECTED}}`, {
            legend: '{{instance}} {{collector}}',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Sampling time',
        span: 8,
        description:
          'How long one sample of the kernel tables takes: the 90th percentile per host and each collector on ' +
          'its last run. It grows with the number of sockets (about 1–2 µs each in the kernel); a sample ' +
          'longer than the sample interval is skipped.',
      })
        .unit('s')
        .min(0)
        .withTarget(
          query(
            'A',
            `histogram_quantile(0.9, sum by (instance, le) (rate(tcpstate_sample_duration_seconds_bucket{${SELECTED}}${RATE})))`,
            { legend: '{{instance}} p90 sample' },
          ),
        )
        .withTarget(
          query('B', `tcpstate_collector_duration_seconds{${SELECTED}}`, {
            legend: '{{instance}} {{collector}}',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Skipped samples and malformed lines per second',
        span: 8,
        description:
          'Skipped samples: a sample was still running when the next one was due, so the numbers are older than ' +
          'the interval. Malformed lines: lines of a /proc file the parser could not read; should stay at zero.',
      })
        .unit('ops')
        .min(0)
        .withTarget(
          query(
            'A',
            `sum by (instance) (rate(tcpstate_samples_skipped_total{${SELECTED}}${RATE}))`,
            {
              legend: '{{instance}} skipped samples',
            },
          ),
        )
        .withTarget(
          query(
            'B',
            `sum by (instance, file) (rate(tcpstate_malformed_lines_total{${SELECTED}}${RATE}))`,
            { legend: '{{instance}} malformed {{file}}' },
          ),
        ),
    )
    .withPanel(
      tablePanel({
        title: 'Kernel settings',
        span: 12,
        description:
          'The sysctls that decide port and TIME_WAIT limits, per host: ip_local_port_range (low/high: the ' +
          'ephemeral ports), tcp_max_tw_buckets (most TIME_WAIT sockets kept), tcp_tw_reuse (0 off, 1 on, 2 ' +
          'loopback only: lets outgoing connections reuse a TIME_WAIT port, needs tcp_timestamps=1), somaxconn ' +
          'and tcp_max_syn_backlog (listen queue limits).',
      })
        .withTarget(query('A', `tcpstate_sysctl{${SELECTED}}`, { instant: true }))
        .withTransformation(organizeTable({ instance: 'Host', name: 'Sysctl', Value: 'Value' })),
    )
    .withPanel(
      tablePanel({
        title: 'Exporter version and freshness',
        span: 12,
        description:
          'The exporter version and Node.js version per host, and the age of the last sample in seconds. An age ' +
          'much larger than the sample interval means the sampler is stuck and every number here is old.',
      })
        .withTarget(query('A', `tcpstate_build_info{${SELECTED}}`, { instant: true }))
        .withTarget(
          query('B', `time() - tcpstate_last_sample_timestamp_seconds{${SELECTED}}`, {
            instant: true,
          }),
        )
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation(
          organizeTable({
            instance: 'Host',
            version: 'Version',
            node_version: 'Node.js',
            'Value #A': 'Info',
            'Value #B': 'Last sample age',
          }),
        )
        .overrideByName('Last sample age', [{ id: 'unit', value: 's' }]),
    );
  return buildDashboard(builder);
}
