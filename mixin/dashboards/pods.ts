/**
 * The pods view (`--collector.netns`): every pod of the fleet by ephemeral-port headroom,
 * then the selected host's pods in detail: headroom, the destinations that block connect(),
 * sockets by state, TIME_WAIT and its overflows, their sysctls, and the collector's rounds.
 * Each pod has its own network namespace, so its own port range and TIME_WAIT table. The
 * figures are the node's families, restricted to the namespaces other than the node's own.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MixinConfig } from '../config.js';
import { NAMESPACE_LABELS } from '../promql.js';
import { RECORDED } from '../recording.js';
import {
  baseVariables,
  buildDashboard,
  destinationsTable,
  fleetMatchers,
  headroomThresholds,
  hostMatchers,
  labelVariable,
  namespacesOnly,
  newDashboard,
  organizeTable,
  query,
  row,
  selectWith,
  statPanel,
  tablePanel,
  thresholdLine,
  timeseriesPanel,
} from './common.js';

const POD_LEGEND = '{{namespace}}/{{pod}} {{container}}';
const DESTINATION_LEGEND = '{{pod}}: {{local_address}} → {{remote_address}}:{{remote_port}}';
/** Table columns naming a pod's network namespace. */
const POD_COLUMNS: Readonly<Record<string, string>> = {
  instance: 'Host',
  namespace: 'Namespace',
  pod: 'Pod',
  container: 'Container',
  netns: 'Network namespace',
};

function fleetTable(config: MixinConfig) {
  const FLEET = fleetMatchers(config);
  /** Every namespace but the node's, on every host of the job. */
  const fleet = (metric: string, extra = ''): string =>
    namespacesOnly(config, selectWith(metric, FLEET, extra), FLEET);
  return tablePanel({
    title: 'Fleet: every pod, lowest headroom first',
    span: 24,
    height: 10,
    description:
      'Every network namespace the exporters of the job export (pods on Kubernetes, containers elsewhere), ' +
      'lowest ephemeral-port headroom first: the share of its usable ports still free toward its worst ' +
      'destination (red from the critical alert’s level, orange from the warning’s). Blocking: sockets that ' +
      'block connect() toward that destination; usable: its own ip_local_port_range less reserved and listening ' +
      'ports; TIME_WAIT: both families; sysctls assumed: 1 when its sysctls could not be read and a new ' +
      'namespace’s defaults were used. Click a pod for its detail below.',
  })
    .withTarget(query('A', fleet('tcpstate_ephemeral_port_headroom_ratio'), { instant: true }))
    .withTarget(query('B', fleet('tcpstate_ephemeral_ports_used_max'), { instant: true }))
    .withTarget(query('C', fleet('tcpstate_ephemeral_ports_usable'), { instant: true }))
    .withTarget(
      query('D', `sum without (family, state) ${fleet('tcpstate_sockets', 'state="time_wait"')}`, {
        instant: true,
      }),
    )
    .withTarget(query('E', fleet('tcpstate_sysctls_assumed'), { instant: true }))
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation(
      organizeTable({
        ...POD_COLUMNS,
        'Value #A': 'Headroom',
        'Value #B': 'Blocking',
        'Value #C': 'Usable',
        'Value #D': 'TIME_WAIT',
        'Value #E': 'Sysctls assumed',
      }),
    )
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Headroom').desc(false)])
    .overrideByName('Headroom', [
      { id: 'unit', value: 'percentunit' },
      { id: 'thresholds', value: headroomThresholds(config).build() },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .overrideByName('Pod', [
      {
        id: 'links',
        value: [
          {
            title: 'This pod on its host',
            // Grafana's data link syntax, after the chosen cluster and group.
            url: `/d/\${__dashboard.uid}?${[config.clusterLabel, ...config.groupLabels].map((label) => `var-${label}=$${label}`).join('&')}&var-instance=\${__data.fields.Host}&var-pod=\${__value.raw}`,
          },
        ],
      },
    ]);
}

export function podsDashboard(config: MixinConfig): dashboard.Dashboard {
  const SELECTED = hostMatchers(config);
  /** The selected host's namespaces whose pod the `pod` variable picks (All: every one but the node's). */
  const PODS = `${SELECTED},pod=~"$pod"`;
  const pods = (metric: string): string => namespacesOnly(config, `${metric}{${SELECTED}}`, PODS);
  const podRate = (metric: string): string =>
    namespacesOnly(config, `rate(${metric}{${SELECTED}}[$__rate_interval])`, PODS);
  const builder = newDashboard(
    config,
    'pods',
    'TCP state / Pods',
    'Per pod (every network namespace, --collector.netns): the fleet by ephemeral-port headroom, then one host’s pods: the destinations that block connect(), sockets by state, TIME_WAIT and the collector’s rounds.',
  )
    .variables([
      ...baseVariables(config),
      labelVariable('pod', 'Pod', `label_values(tcpstate_netns_info{${SELECTED}}, pod)`)
        .description(
          'Pods on the selected host; namespaces of no pod (plain containers) show under All.',
        )
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ text: 'All', value: '$__all' }),
    ])
    .withRow(row('Fleet'))
    .withPanel(fleetTable(config))
    .withRow(row('Pods on $instance: room for new outgoing connections'))
    .withPanel(
      timeseriesPanel({
        title: 'Ephemeral port headroom per pod',
        span: 12,
        description:
          'Share of each pod’s usable ephemeral ports still free toward its worst destination. A pod has its own ' +
          'network namespace, so its own port range (a new namespace gets the kernel’s defaults, not the node’s ' +
          'sysctls) and its own TIME_WAIT. The dashed lines are the alerts’ levels; at 0 % connect() from the pod ' +
          'to that destination fails with EADDRNOTAVAIL.',
      })
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(headroomThresholds(config))
        .thresholdsStyle(thresholdLine())
        .withTarget(
          query('A', pods('tcpstate_ephemeral_port_headroom_ratio'), { legend: POD_LEGEND }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Blocking ephemeral ports per destination of each pod',
        span: 12,
        description:
          'Per pod and destination (local address → remote address:port), the sockets that block connect() ' +
          'toward it: open connections and TIME_WAIT that tcp_tw_reuse cannot take over. When a line meets its ' +
          'pod’s "usable", connect() from that pod to that destination fails while other destinations still work.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', pods('tcpstate_ephemeral_ports_used'), { legend: DESTINATION_LEGEND }),
        )
        .withTarget(
          query('B', pods('tcpstate_ephemeral_ports_usable'), {
            legend: '{{pod}} usable',
          }),
        ),
    )
    .withPanel(
      destinationsTable(
        {
          title: 'Destinations of the selected pods',
          span: 24,
          description:
            'Each pod’s busiest destinations right now (--collector.netns.top-destinations of them): blocking ports, ' +
            'their share of the pod’s usable ports, all TIME_WAIT toward it, and how long a connection the pod ' +
            'closes first blocks its port. Confirm inside the pod with nsenter -t PID -n ss -tan "( dport = :PORT )".',
        },
        {
          blocking: pods('tcpstate_ephemeral_ports_used'),
          share: pods(RECORDED.ephemeralUsedRatio),
          timeWait: pods('tcpstate_ephemeral_ports_time_wait'),
          hold: pods('tcpstate_ephemeral_port_hold_seconds'),
        },
        { columns: POD_COLUMNS, sortBy: 'Share of usable' },
      ),
    )
    .withRow(row('Sockets of the pods on $instance'))
    .withPanel(
      timeseriesPanel({
        title: 'Sockets by state per pod',
        span: 12,
        description:
          'TCP sockets of each pod’s network namespace by state, IPv4 and IPv6 together (states with no socket ' +
          'left out). Many TIME_WAIT: the pod opens a connection per request and closes it first; CLOSE_WAIT ' +
          'that keeps growing: the application leaks sockets.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', `sum without (family) ${pods('tcpstate_sockets')} > 0`, {
            legend: '{{pod}} {{state}}',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'TIME_WAIT created, TIME_WAIT and listen overflows per pod',
        span: 12,
        description:
          'Per second, sockets each pod’s namespace put into TIME_WAIT, and those the kernel destroyed at once ' +
          'because the namespace’s net.ipv4.tcp_max_tw_buckets was reached (overflows: the connection loses its ' +
          'TIME_WAIT guard). Created approaching usable / 60 s toward one destination means its ports run out. ' +
          'Listen overflows: incoming connections the pod dropped at a full accept queue.',
      })
        .unit('ops')
        .min(0)
        .withTarget(
          query('A', podRate('tcpstate_timewait_finished_total'), {
            legend: '{{pod}} created',
          }),
        )
        .withTarget(
          query('B', podRate('tcpstate_timewait_overflows_total'), {
            legend: '{{pod}} overflows',
          }),
        )
        .withTarget(
          query('C', podRate('tcpstate_listen_overflows_total'), {
            legend: '{{pod}} listen overflows',
          }),
        ),
    )
    .withPanel(
      tablePanel({
        title: 'Sysctls per pod',
        span: 16,
        description:
          'Each pod namespace’s own TCP sysctls as the exporter read them by entering the namespace. When it ' +
          'could not (no CAP_SYS_ADMIN), these are a new namespace’s kernel defaults, and "Sysctls assumed" ' +
          'counts such namespaces: a pod that sets its own port range then shows wrong headroom.',
      })
        .withTarget(query('A', pods('tcpstate_sysctl'), { instant: true }))
        .withTransformation({
          id: 'groupingToMatrix',
          options: { columnField: 'name', rowField: 'pod', valueField: 'Value' },
        }),
    )
    .withPanel(
      statPanel({
        title: 'Sysctls assumed',
        span: 8,
        description:
          'Network namespaces of this host whose sysctls could not be read, so their figures use a new ' +
          'namespace’s kernel defaults. Non-zero for every pod when the exporter lacks CAP_SYS_ADMIN.',
      })
        .unit('short')
        .withTarget(
          query(
            'A',
            `sum without (${NAMESPACE_LABELS.join(', ')}) ${pods('tcpstate_sysctls_assumed')}`,
            { legend: 'namespaces' },
          ),
        ),
    )
    .withRow(row('The netns collector on $instance'))
    .withPanel(
      timeseriesPanel({
        title: 'Network namespaces by outcome',
        span: 12,
        description:
          'Namespaces in the latest round, the node’s own left out: exported; dropped beyond ' +
          '--collector.netns.max (those with the fewest sockets; their pods have no series and no alerts); ' +
          'failed because their process exited mid-read (counted, the round goes on).',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', `tcpstate_netns_namespaces{${SELECTED}}`, { legend: '{{outcome}}' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Round duration and age',
        span: 12,
        description:
          'How long one round over every namespace took. Each namespace’s /proc/<pid>/net/tcp walks the ' +
          'kernel’s whole socket hash, shared by all namespaces, so a round grows with namespaces × all sockets ' +
          'on the node (docs/benchmarks.md); it runs on its own interval, off the scrape path. Age: time since ' +
          'the last round started, which every pod figure is as old as.',
      })
        .unit('s')
        .min(0)
        .withTarget(
          query('A', `tcpstate_netns_round_duration_seconds{${SELECTED}}`, { legend: 'round' }),
        )
        .withTarget(
          query('B', `time() - tcpstate_netns_last_round_timestamp_seconds{${SELECTED}}`, {
            legend: 'age',
          }),
        ),
    );
  return buildDashboard(builder);
}
