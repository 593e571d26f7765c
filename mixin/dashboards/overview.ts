/**
 * The overview: first the fleet (every host, worst first), then the selected host in detail:
 * how close it is to running out of ephemeral ports and why, its sockets, listeners and
 * kernel limits, what the kernel counters say, and whether the exporter itself is healthy.
 * Only panels titled "Fleet" look at more than the selected host.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MixinConfig } from '../config.js';
import { byHost, DESTINATION_LABELS, onHost } from '../promql.js';
import { RECORDED } from '../recording.js';
import {
  baseVariables,
  buildDashboard,
  DESTINATION_COLUMNS,
  destinationsTable,
  fleetMatchers,
  headroomThresholds,
  hostMatchers,
  newDashboard,
  nodeOnly,
  organizeTable,
  type PanelText,
  query,
  row,
  selectWith,
  statPanel,
  tablePanel,
  thresholdLine,
  thresholds,
  timeseriesPanel,
} from './common.js';
import { withConnectErrorsRow } from './connect-errors-row.js';

const RATE = '[$__rate_interval]';
const DESTINATION_LEGEND = '{{local_address}} → {{remote_address}}:{{remote_port}}';

/**
 * Queries of the selected host, and a panel of its counters' rates: the node's view, its own
 * namespace's series, never a pod's (the pods board has those).
 */
function hostQueries(config: MixinConfig) {
  const matchers = hostMatchers(config);
  const series = (metric: string, extra: string): string => selectWith(metric, matchers, extra);
  const selected = (metric: string, extra = ''): string =>
    nodeOnly(config, series(metric, extra), matchers);
  const rate = (metric: string, extra = ''): string =>
    nodeOnly(config, `rate(${series(metric, extra)}${RATE})`, matchers);
  /** Per-second rates of counters, one query each, as [metric, legend]. */
  const ratesPanel = (
    text: PanelText,
    counters: readonly (readonly [string, string])[],
  ): ReturnType<typeof timeseriesPanel> => {
    const panel = timeseriesPanel(text).unit('ops').min(0);
    counters.forEach(([metric, legend], index) => {
      panel.withTarget(query(String.fromCharCode(65 + index), rate(metric), { legend }));
    });
    return panel;
  };
  return { selected, ratesPanel };
}

/** Green below `warning`, orange from it, red from `critical` (when the alert has one). */
function risingThresholds(warning: number, critical?: number): dashboard.ThresholdsConfigBuilder {
  return thresholds([
    { value: null, color: 'green' },
    { value: warning, color: 'orange' },
    ...(critical === undefined ? [] : [{ value: critical, color: 'red' }]),
  ]);
}

function fleetTable(config: MixinConfig) {
  const FLEET = fleetMatchers(config);
  // Every host's own namespace, never a pod's.
  const fleet = (metric: string, extra = ''): string =>
    nodeOnly(config, selectWith(metric, FLEET, extra), FLEET);
  const percent = [{ id: 'unit', value: 'percentunit' }];
  return tablePanel({
    title: 'Fleet: every host, worst first',
    span: 24,
    height: 9,
    description:
      'Every host of the job, whatever host is selected below, sorted by ephemeral-port headroom (lowest first). ' +
      'Headroom: share of usable ports still free toward the host’s worst destination (red from the critical ' +
      'alert’s level, orange from the warning’s). Worst destination: the one with the most ports blocked and its ' +
      'share. TIME_WAIT: both families. Held ports: the share of usable ports held by any socket, the limit of ' +
      'clients that bind() before connect(). Collectors: 0 when any collector failed on the last sample. ' +
      'Sample age: seconds since the last sample. Scraped: 0 when Prometheus cannot scrape the exporter. Pick a host in the Instance variable for its detail.',
  })
    .withTarget(query('A', fleet('tcpstate_ephemeral_port_headroom_ratio'), { instant: true }))
    .withTarget(
      query('B', `topk ${byHost(config)} (1, ${fleet(RECORDED.ephemeralUsedRatio)})`, {
        instant: true,
      }),
    )
    .withTarget(
      query('C', `sum without (family, kind) ${fleet('tcpstate_sockstat_sockets', 'kind="tw"')}`, {
        instant: true,
      }),
    )
    .withTarget(query('D', fleet(RECORDED.ephemeralHeldRatio), { instant: true }))
    .withTarget(
      query('E', `min without (collector) (tcpstate_collector_success{${FLEET}})`, {
        instant: true,
      }),
    )
    .withTarget(query('F', `${RECORDED.sampleAge}{${FLEET}}`, { instant: true }))
    .withTarget(query('G', `up{${FLEET}}`, { instant: true }))
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation(
      organizeTable({
        ...DESTINATION_COLUMNS,
        'Value #A': 'Headroom',
        'Value #B': 'Worst destination share',
        'Value #C': 'TIME_WAIT',
        'Value #D': 'Held ports',
        'Value #E': 'Collectors ok',
        'Value #F': 'Sample age',
        'Value #G': 'Scraped',
      }),
    )
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Headroom').desc(false)])
    .overrideByName('Headroom', [
      ...percent,
      { id: 'thresholds', value: headroomThresholds(config).build() },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .overrideByName('Worst destination share', percent)
    .overrideByName('Held ports', percent)
    .overrideByName('Sample age', [{ id: 'unit', value: 's' }]);
}

export function overviewDashboard(config: MixinConfig): dashboard.Dashboard {
  const SELECTED = hostMatchers(config);
  const { selected, ratesPanel } = hostQueries(config);
  const notDestination = `ignoring (${DESTINATION_LABELS.join(', ')})`;
  const builder = newDashboard(
    config,
    'overview',
    'TCP state / Overview',
    'The fleet by ephemeral-port headroom, then one host: blocking ports and TIME_WAIT per destination, the connection rate it sustains, sockets, listeners, kernel limits, counters and exporter health. The node’s own network namespace only: its pods are on TCP state / Pods.',
  )
    .variables(baseVariables(config))
    .withRow(row('Fleet'))
    .withPanel(fleetTable(config))
    .withRow(row('Ephemeral ports of $instance: room for new outgoing connections'))
    .withPanel(
      statPanel({
        title: 'Ephemeral port headroom',
        span: 6,
        description:
          'Share of usable ephemeral ports still free toward the busiest destination of this host. Only sockets ' +
          'that block connect() count as taken: a TIME_WAIT that tcp_tw_reuse lets connect() take over does not. ' +
          'Orange from the warning alert’s level, red from the critical one’s; at 0 % connect() to that ' +
          'destination fails with "Cannot assign requested address" (EADDRNOTAVAIL) and proxies answer 502.',
      })
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(headroomThresholds(config))
        .withTarget(
          query('A', selected('tcpstate_ephemeral_port_headroom_ratio'), { legend: 'headroom' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Ephemeral port headroom over time',
        span: 18,
        description:
          'The same headroom over time. The dashed lines are the alerts’ levels: below the orange one for 15 ' +
          'minutes warns, below the red one for 5 minutes pages. A steady fall while traffic rises is the early ' +
          'sign of port exhaustion; keep-alive connections to the upstream are the usual fix (docs/runbooks.md).',
      })
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(headroomThresholds(config))
        .thresholdsStyle(thresholdLine())
        .withTarget(
          query('A', selected('tcpstate_ephemeral_port_headroom_ratio'), { legend: 'headroom' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Blocking ports and TIME_WAIT per destination',
        span: 12,
        description:
          'Per destination (local address → remote address:port): "blocking" are the sockets connect() cannot ' +
          'reuse toward it now, "TIME_WAIT" all TIME_WAIT sockets toward it, reusable or not. A TIME_WAIT line far ' +
          'above its blocking line is a pile-up connect() survives (tcp_tw_reuse applies, as on loopback by ' +
          'default); when the blocking line meets "usable", connect() to that destination fails.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', selected('tcpstate_ephemeral_ports_used'), {
            legend: `${DESTINATION_LEGEND} blocking`,
          }),
        )
        .withTarget(
          query('B', selected('tcpstate_ephemeral_ports_time_wait'), {
            legend: `${DESTINATION_LEGEND} TIME_WAIT`,
          }),
        )
        .withTarget(query('C', selected('tcpstate_ephemeral_ports_usable'), { legend: 'usable' })),
    )
    .withPanel(
      timeseriesPanel({
        title: 'New connections per second per destination: sustainable against closed first here',
        span: 12,
        description:
          'Sustainable: usable ports divided by how long a port stays blocked after this host closes first ' +
          '(60 s in TIME_WAIT, or the reuse delay, 1 s by default, where tcp_tw_reuse applies): the rate of new ' +
          'connections one destination can take when the client closes first. Closed first here: that ' +
          'destination’s TIME_WAIT sockets divided by the 60 s each lasts, the rate at which this host closes ' +
          'connections to it first. (TcpExt TW counts server-side TIME_WAIT too, which holds no ephemeral port.) ' +
          'A destination’s second line approaching its first means its ports run out.',
      })
        .unit('cps')
        .min(0)
        .withTarget(
          query(
            'A',
            `${selected('tcpstate_ephemeral_ports_usable')}\n  / ${notDestination} group_right ()\n${selected('tcpstate_ephemeral_port_hold_seconds')}`,
            { legend: `${DESTINATION_LEGEND} sustainable` },
          ),
        )
        .withTarget(
          query('B', `${selected('tcpstate_ephemeral_ports_time_wait')} / 60`, {
            legend: `${DESTINATION_LEGEND} closed first here`,
          }),
        ),
    )
    .withPanel(
      destinationsTable(
        {
          title: 'Busiest destinations',
          span: 16,
          description:
            'The destinations with the most blocking sockets right now: blocking ports, their share of the usable ' +
            'ports, all TIME_WAIT toward it, how long a closed connection blocks its port, and the new connections ' +
            'per second it sustains. Confirm on the host with ss -tan state time-wait "( dport = :PORT )" and ' +
            '`tcpstate-exporter doctor`; give that client keep-alive connections.',
        },
        {
          blocking: `topk(20, ${selected('tcpstate_ephemeral_ports_used')})`,
          share: selected(RECORDED.ephemeralUsedRatio),
          timeWait: selected('tcpstate_ephemeral_ports_time_wait'),
          hold: selected('tcpstate_ephemeral_port_hold_seconds'),
        },
        { columns: {}, sortBy: 'Blocking ports' },
      ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Held ports against usable (clients that bind first)',
        span: 8,
        description:
          'Distinct ephemeral ports held by any socket, as a share of the usable ports. connect() alone shares ' +
          'a port between destinations, but a client that binds its local address first with port 0 (Go ' +
          'Dialer.LocalAddr, Java bind(addr, 0)) needs a port free for every destination at once: this share is its limit. The dashed ' +
          'line is the warning alert’s level.',
      })
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(risingThresholds(config.ephemeral.heldWarningRatio))
        .thresholdsStyle(thresholdLine())
        .withTarget(query('A', selected(RECORDED.ephemeralHeldRatio), { legend: 'held' })),
    )
    .withRow(row('Sockets of $instance'))
    .withPanel(
      timeseriesPanel({
        title: 'IPv4 sockets by state',
        span: 12,
        description:
          'TCP sockets in /proc/net/tcp by state. ESTABLISHED are open connections; TIME_WAIT are connections ' +
          'this side closed first, kept 60 s so late packets cannot reach a new connection; CLOSE_WAIT are ' +
          'connections the peer closed and the application has not closed yet; LISTEN are server sockets.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', selected('tcpstate_sockets', 'family="ipv4"'), { legend: '{{state}}' }),
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
          query('A', selected('tcpstate_sockets', 'family="ipv6"'), { legend: '{{state}}' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'TIME_WAIT against tcp_max_tw_buckets',
        span: 12,
        description:
          'TIME_WAIT sockets (sockstat tw, both families: the count the kernel compares with the limit) as a share ' +
          'of net.ipv4.tcp_max_tw_buckets, the most it keeps per network namespace; the dashed line is the ' +
          'warning alert’s level. Above the limit the kernel closes new connections without TIME_WAIT and counts ' +
          'an overflow: ports come free at once, late segments are no longer caught. TIME_WAIT always lasts ' +
          '60 s; only fewer closed connections (keep-alive) make it smaller.',
      })
        .unit('percentunit')
        .min(0)
        .thresholds(risingThresholds(config.timeWait.bucketWarningRatio))
        .thresholdsStyle(thresholdLine())
        .withTarget(
          query('A', selected(RECORDED.timeWaitBucketsRatio), { legend: 'TIME_WAIT / limit' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Kernel socket summary (sockstat): this namespace and host-wide',
        span: 12,
        description:
          'The O(1) summary from /proc/net/sockstat. inuse (sockets) and tw (TIME_WAIT) count the exporter’s ' +
          'network namespace only; orphan (closed by their program, still closing in TCP) and alloc (allocated ' +
          'sockets) count the whole host, all containers included. The legend says which is which.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', selected('tcpstate_sockstat_sockets', 'kind=~"inuse|tw"'), {
            legend: '{{family}} {{kind}} (this namespace)',
          }),
        )
        .withTarget(
          query('B', selected('tcpstate_sockstat_sockets', 'kind=~"orphan|alloc"'), {
            legend: '{{family}} {{kind}} (host-wide)',
          }),
        ),
    )
    .withRow(row('Listeners of $instance'))
    .withPanel(
      timeseriesPanel({
        title: 'Accept queue per listener against net.core.somaxconn',
        span: 12,
        description:
          'Per listening port, the fullest accept queue: connections the kernel completed that the program has ' +
          'not accept()ed yet. Its limit is the smaller of the program’s listen() backlog and net.core.somaxconn ' +
          '(the line here, the ceiling); /proc/net/tcp does not show the backlog itself. A queue that stays above ' +
          'zero while listen overflows rise is the full one (the alert).',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', selected('tcpstate_listen_queue_length'), { legend: 'port {{port}}' }),
        )
        .withTarget(
          query('B', selected('tcpstate_sysctl', 'name="net.core.somaxconn"'), {
            legend: 'somaxconn',
          }),
        ),
    )
    .withPanel(
      ratesPanel(
        {
          title: 'SYN and accept queue drops and SYN cookies per second',
          span: 12,
          description:
            'SYN queue full drops: SYNs dropped because a SYN queue was full and no cookie was sent; SYN queue ' +
            'full cookies / SYN cookies sent: the kernel answered with a SYN cookie instead (a flood, or a backlog ' +
            'too small); cookies failed: ACKs with an invalid cookie. Listen overflows and drops: completed ' +
            'connections dropped at a full accept queue. Anything but zero for minutes deserves attention.',
        },
        [
          ['tcpstate_syn_queue_full_drops_total', 'SYN queue full drops'],
          ['tcpstate_syn_queue_full_cookies_total', 'SYN queue full cookies'],
          ['tcpstate_syncookies_sent_total', 'SYN cookies sent'],
          ['tcpstate_syncookies_failed_total', 'SYN cookies failed'],
          ['tcpstate_listen_overflows_total', 'listen overflows'],
          ['tcpstate_listen_drops_total', 'listen drops'],
        ],
      ),
    )
    .withRow(row('Kernel limits of $instance (host-wide)'))
    .withPanel(
      timeseriesPanel({
        title: 'Orphans against tcp_max_orphans',
        span: 8,
        description:
          'Orphaned sockets (closed by their program, still closing in TCP) as a share of ' +
          'net.ipv4.tcp_max_orphans, host-wide. The kernel counts an orphan with a pending error four times, so it ' +
          'starts resetting them from a quarter of the limit on; the dashed lines are the warning and critical ' +
          'alerts’ levels.',
      })
        .unit('percentunit')
        .min(0)
        .thresholds(risingThresholds(config.orphans.warningRatio, config.orphans.criticalRatio))
        .thresholdsStyle(thresholdLine())
        .withTarget(query('A', selected(RECORDED.orphansRatio), { legend: 'orphans / limit' })),
    )
    .withPanel(
      timeseriesPanel({
        title: 'TCP memory against tcp_mem (pages)',
        span: 8,
        description:
          'Memory of all TCP sockets of the host in pages (sockstat "mem") against net.ipv4.tcp_mem: below "min" ' +
          'the kernel does not limit; above "pressure" it shrinks socket buffers (the warning alert); at "max" ' +
          'it refuses memory and aborts connections (the critical alert).',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', selected('tcpstate_sockstat_memory_pages'), { legend: 'TCP memory' }),
        )
        .withTarget(
          query('B', selected('tcpstate_sysctl', 'name=~"net.ipv4.tcp_mem.*"'), {
            legend: '{{name}}',
          }),
        ),
    )
    .withPanel(
      ratesPanel(
        {
          title: 'TCP memory pressure entered and connections aborted per second',
          span: 8,
          description:
            'Pressure entered: times TCP went into memory pressure (TCPMemoryPressures). Aborted: connections the ' +
            'kernel reset for lack of memory (TCPAbortOnMemory); any is a reason to act.',
        },
        [
          ['tcpstate_memory_pressures_total', 'pressure entered'],
          ['tcpstate_memory_aborts_total', 'aborted'],
        ],
      ),
    )
    .withRow(row('Kernel TCP counters of $instance'))
    .withPanel(
      ratesPanel(
        {
          title: 'TIME_WAIT sockets per second',
          span: 8,
          description:
            'How fast TIME_WAIT sockets come and go. entered: sockets put into TIME_WAIT for the full 60 s ' +
            '(the kernel counts them as the timer starts, TcpExt TW). short-lived: given a timeout of 4 s or less ' +
            '(TWKilled). reused: connect() took over a TIME_WAIT 4-tuple (net.ipv4.tcp_tw_reuse). overflow: ' +
            'destroyed at once because tcp_max_tw_buckets was reached; anything above zero there deserves attention.',
        },
        [
          ['tcpstate_timewait_finished_total', 'entered'],
          ['tcpstate_timewait_killed_total', 'short-lived'],
          ['tcpstate_timewait_reused_total', 'reused'],
          ['tcpstate_timewait_overflows_total', 'overflow'],
        ],
      ),
    )
    .withPanel(
      ratesPanel(
        {
          title: 'Connections opened and failed per second',
          span: 8,
          description:
            'active opens: outgoing connect() calls; passive opens: connections accepted from clients; failed ' +
            'attempts: connections that never got established; resets: established connections ended by a reset. ' +
            'Many active opens per second without keep-alive are what fill the ephemeral port range.',
        },
        [
          ['tcpstate_active_opens_total', 'active opens'],
          ['tcpstate_passive_opens_total', 'passive opens'],
          ['tcpstate_attempt_fails_total', 'failed attempts'],
          ['tcpstate_established_resets_total', 'resets'],
        ],
      ),
    )
    .withPanel(
      ratesPanel(
        {
          title: 'PAWS rejects per second by stage',
          span: 8,
          description:
            'Segments dropped because their TCP timestamp went backwards (PAWS), by where: established ' +
            'connections, SYN-ACKs of this host’s connects (active), TIME_WAIT sockets (timewait, where newer ' +
            'kernels count the NAT case), old ACKs and rejected echoed timestamps. A steady rate usually means ' +
            'clients behind one NAT address; the alert fires above its level summed over the stages.',
        },
        [['tcpstate_paws_rejected_total', '{{stage}}']],
      ),
    )
    .withRow(row('Exporter on $instance and kernel settings'))
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
          query('A', selected('tcpstate_collector_success'), { legend: '{{collector}}' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Sampling time and sample age',
        span: 8,
        description:
          'How long one sample of the kernel tables takes (90th percentile, and each collector on its last run), ' +
          'against the configured interval, and how old the last sample is. A sample longer than the interval ' +
          'is skipped; an age above a few intervals means the numbers served are stale (the stalled-sampling alert).',
      })
        .unit('s')
        .min(0)
        .withTarget(
          query(
            'A',
            `histogram_quantile(0.9, sum ${byHost(config, 'le')} (rate(tcpstate_sample_duration_seconds_bucket{${SELECTED}}${RATE})))`,
            { legend: 'p90 sample' },
          ),
        )
        .withTarget(
          query('B', selected('tcpstate_collector_duration_seconds'), { legend: '{{collector}}' }),
        )
        .withTarget(
          query('C', selected('tcpstate_sample_interval_seconds'), { legend: 'interval' }),
        )
        .withTarget(query('D', selected(RECORDED.sampleAge), { legend: 'last sample age' })),
    )
    .withPanel(
      ratesPanel(
        {
          title: 'Skipped samples and malformed lines per second',
          span: 8,
          description:
            'Skipped samples: a sample was still running when the next one was due, so the numbers are older than ' +
            'the interval. Malformed lines: lines of a /proc file the parser could not read; should stay at zero.',
        },
        [
          ['tcpstate_samples_skipped_total', 'skipped samples'],
          ['tcpstate_malformed_lines_total', 'malformed {{file}}'],
        ],
      ),
    )
    .withPanel(
      tablePanel({
        title: 'Kernel settings',
        span: 12,
        description:
          'The sysctls that decide port, TIME_WAIT, queue and memory limits: ip_local_port_range (low/high: the ' +
          'ephemeral ports), tcp_max_tw_buckets (most TIME_WAIT sockets kept), tcp_tw_reuse (0 off, 1 on, 2 ' +
          'loopback only: lets outgoing connections reuse a TIME_WAIT port, needs tcp_timestamps=1) and its ' +
          'delay, somaxconn and tcp_max_syn_backlog (listen queue limits), tcp_syncookies, tcp_max_orphans, tcp_mem.',
      })
        .withTarget(query('A', selected('tcpstate_sysctl'), { instant: true }))
        .withTransformation(organizeTable({ instance: 'Host', name: 'Sysctl', Value: 'Value' })),
    )
    .withPanel(
      tablePanel({
        title: 'Exporter version and freshness',
        span: 12,
        description:
          'The exporter version and Node.js version, the configured sample interval and the age of the last ' +
          'sample in seconds. An age of several intervals means the sampler is stuck and every number here is old.',
      })
        .withTarget(query('A', selected('tcpstate_build_info'), { instant: true }))
        .withTarget(query('B', selected(RECORDED.sampleAge), { instant: true }))
        .withTarget(query('C', selected('tcpstate_sample_interval_seconds'), { instant: true }))
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation(
          organizeTable({
            instance: 'Host',
            version: 'Version',
            node_version: 'Node.js',
            'Value #A': 'Info',
            'Value #B': 'Last sample age',
            'Value #C': 'Sample interval',
          }),
        )
        .overrideByName('Last sample age', [{ id: 'unit', value: 's' }])
        .overrideByName('Sample interval', [{ id: 'unit', value: 's' }]),
    )
    // Last, so the panel ids above (runbook links) stay as they are.
    .withRow(row('Conntrack and source NAT of $instance (--collector.conntrack, --collector.snat)'))
    .withPanel(
      timeseriesPanel({
        title: 'NAT ports per destination against usable',
        span: 8,
        description:
          'Ports of a NAT address held toward one destination by source-NATed flows (pods to the outside ' +
          'on a Kubernetes node), the 10 busiest, against the ports the masquerade/snat rule gives each ' +
          'destination. Where a line meets usable, new flows to it are dropped and connect() times out.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query(
            'A',
            `topk(10, ${selected('tcpstate_snat_ports_used', 'remote_address!="other"')})`,
            { legend: '{{nat_address}} → {{remote_address}}:{{remote_port}}/{{protocol}}' },
          ),
        )
        .withTarget(
          query('B', selected('tcpstate_snat_ports_usable'), { legend: 'usable ({{source}})' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Conntrack entries against nf_conntrack_max',
        span: 8,
        description:
          'Flows the conntrack table holds as a share of nf_conntrack_max. At the limit the kernel evicts ' +
          'unassured flows and then drops new ones; the dashed line is the alert’s level.',
      })
        .unit('percentunit')
        .min(0)
        .thresholds(risingThresholds(config.conntrack.entriesWarningRatio))
        .thresholdsStyle(thresholdLine())
        .withTarget(
          query(
            'A',
            `${selected('tcpstate_conntrack_entries')} / ${onHost(config)} ${selected('tcpstate_conntrack_entries_limit')}`,
            { legend: 'entries / limit' },
          ),
        ),
    )
    .withPanel(
      ratesPanel(
        {
          title: 'Conntrack events per second',
          span: 8,
          description:
            'insert_failed and drop: flows conntrack refused (no free NAT port toward a destination, or a full ' +
            'table); each is a SYN lost and a connect() that times out, and the critical alert. early_drop: ' +
            'entries evicted to make room. clash_resolve, search_restart, invalid: races and packets it could not track.',
        },
        [['tcpstate_conntrack_events_total', '{{event}}']],
      ),
    )
    .withRow(row('Failing connections of $instance'))
    .withPanel(
      ratesPanel(
        {
          title: 'Connections aborted on timeout and segments dropped per second',
          span: 8,
          description:
            'Timeout aborts: connections reset after exhausting their retransmissions or keepalive probes ' +
            '(TCPAbortOnTimeout; the alert compares them with the connections opened). Backlog drops: segments ' +
            "dropped while a program held its socket's lock (TCPBacklogDrop). Receive queue drops: segments with " +
            'no room in the receive buffer (TCPRcvQDrop). Each drop costs a retransmission timeout.',
        },
        [
          ['tcpstate_timeout_aborts_total', 'timeout aborts'],
          ['tcpstate_backlog_drops_total', 'backlog drops'],
          ['tcpstate_receive_queue_drops_total', 'receive queue drops'],
        ],
      ),
    )
    .withPanel(
      ratesPanel(
        {
          title: 'Retransmissions and resets per second',
          span: 8,
          description:
            'Segments retransmitted (RetransSegs), retransmission timer expiries (TCPTimeouts), SYN and SYN-ACK ' +
            'retransmits (TCPSynRetrans: peers not answering), RSTs sent (OutRsts) and connections closed with ' +
            'SO_LINGER 0 (TCPAbortOnData). Normal in small numbers: compare with your usual level.',
        },
        [
          ['tcpstate_segments_retransmitted_total', 'retransmitted'],
          ['tcpstate_timeouts_total', 'RTOs'],
          ['tcpstate_syn_retransmits_total', 'SYN retransmits'],
          ['tcpstate_resets_sent_total', 'RSTs sent'],
          ['tcpstate_data_aborts_total', 'linger-0 aborts'],
        ],
      ),
    );
  return buildDashboard(withConnectErrorsRow(builder, config));
}
