/**
 * The ports view: inbound connections by the local service port they reached, outbound
 * connections by the remote port they go to, and ephemeral ports per destination: the node's
 * own network namespace (the pods board has the pods').
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MixinConfig } from '../config.js';
import {
  baseVariables,
  buildDashboard,
  DESTINATION_COLUMNS,
  hostMatchers,
  labelVariable,
  newDashboard,
  nodeOnly,
  organizeTable,
  portsUsedAgainstUsablePanel,
  query,
  row,
  tablePanel,
  timeseriesPanel,
} from './common.js';

/** Rows are ports, columns are states: one line per port with its state counts. */
const STATE_MATRIX: dashboard.DataTransformerConfig = {
  id: 'groupingToMatrix',
  options: { columnField: 'state', rowField: 'port', valueField: 'Value' },
};

function statePanel(
  title: string,
  description: string,
  expr: string,
  legend: string,
): ReturnType<typeof timeseriesPanel> {
  return timeseriesPanel({ title, description, span: 8 })
    .unit('short')
    .min(0)
    .withTarget(query('A', expr, { legend }));
}

export function portsDashboard(config: MixinConfig): dashboard.Dashboard {
  const SELECTED = hostMatchers(config);
  const LOCAL = `${SELECTED},port=~"$port"`;
  const REMOTE = `${SELECTED},port=~"$remote_port"`;
  const builder = newDashboard(
    config,
    'ports',
    'TCP state / Ports',
    'TCP states per local service port (inbound) and per remote port (outbound), and ephemeral ports held per destination, in the node’s own network namespace.',
  )
    .variables([
      ...baseVariables(config),
      labelVariable(
        'port',
        'Service port',
        `label_values(tcpstate_local_port_sockets{${SELECTED}}, port)`,
      )
        .description('Local ports with a listening socket; "other" sums those beyond the limit.')
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ text: 'All', value: '$__all' }),
      labelVariable(
        'remote_port',
        'Remote port',
        `label_values(tcpstate_remote_port_sockets{${SELECTED}}, port)`,
      )
        .description('Remote ports of outgoing connections; "other" sums the less busy ones.')
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ text: 'All', value: '$__all' }),
    ])
    .withRow(row('Inbound: connections to the services on this host, by local port'))
    .withPanel(
      statePanel(
        'Established connections per service port',
        'Open client connections to each listening port of this host (for example 443 for nginx, 9000 for ' +
          'php-fpm).',
        `tcpstate_local_port_sockets{${LOCAL},state="established"}`,
        '{{port}}',
      ),
    )
    .withPanel(
      statePanel(
        'TIME_WAIT per service port',
        'Connections to a service that this host closed first. They hold no ephemeral port (the local port is ' +
          'the service port), so they only cost a little memory; many of them mean clients open a new ' +
          'connection per request.',
        `tcpstate_local_port_sockets{${LOCAL},state="time_wait"}`,
        '{{port}}',
      ),
    )
    .withPanel(
      statePanel(
        'CLOSE_WAIT per service port',
        'Connections the client already closed but the service has not: the application still owes a ' +
          'close(). A busy server holds some for milliseconds each; "stuck" are those seen in CLOSE_WAIT for ' +
          '--collector.ports.close-wait-stuck-after or longer: a leak, or a pool keeping dead connections.',
        `tcpstate_local_port_sockets{${LOCAL},state="close_wait"}`,
        '{{port}}',
      ).withTarget(
        query('B', `tcpstate_close_wait_stuck_sockets{${LOCAL},direction="inbound"}`, {
          legend: '{{port}} stuck',
        }),
      ),
    )
    .withPanel(
      tablePanel({
        title: 'All states by service port',
        span: 24,
        description:
          'Every TCP state per listening port right now, one row per port. SYN_RECV are handshakes in progress ' +
          '(many of them: a SYN flood or a slow accept queue), FIN_WAIT and LAST_ACK are closes in progress.',
      })
        .withTarget(
          query('A', `tcpstate_local_port_sockets{${LOCAL}}`, {
            instant: true,
          }),
        )
        .withTransformation(STATE_MATRIX),
    )
    .withRow(row('Outbound: connections this host opens, by remote port'))
    .withPanel(
      statePanel(
        'Established connections per remote port',
        'Open connections this host made to other services, by the port it connected to (for example 5432 ' +
          'PostgreSQL, 6379 Redis, 80 an upstream). Each one holds an ephemeral local port.',
        `tcpstate_remote_port_sockets{${REMOTE},state="established"}`,
        '{{port}}',
      ),
    )
    .withPanel(
      statePanel(
        'TIME_WAIT per remote port',
        'Outgoing connections this host closed first, kept 60 s each. Each holds its ephemeral port toward ' +
          'that destination for the whole minute: this is what exhausts the port range. Keep-alive connections ' +
          'to that upstream make it small.',
        `tcpstate_remote_port_sockets{${REMOTE},state="time_wait"}`,
        '{{port}}',
      ),
    )
    .withPanel(
      portsUsedAgainstUsablePanel(
        config,
        {
          title: 'Blocking ephemeral ports per destination',
          span: 8,
          description:
            'Sockets that block connect() toward each of the busiest destinations (local address → remote ' +
            'address:port), against the usable ports; a TIME_WAIT that tcp_tw_reuse lets connect() take over does ' +
            'not block. Exhaustion is per destination: a line reaching "usable" means connect() to that ' +
            'destination fails, while others still work.',
        },
        nodeOnly(config, `tcpstate_ephemeral_ports_used{${SELECTED}}`),
        '{{local_address}} → {{remote_address}}:{{remote_port}}',
      ),
    )
    .withPanel(
      tablePanel({
        title: 'All states by remote port',
        span: 12,
        description:
          'Every TCP state per remote port of outgoing connections right now. SYN_SENT are connects waiting for ' +
          'an answer (an unreachable or overloaded upstream); CLOSE_WAIT means the upstream closed and this ' +
          'host has not.',
      })
        .withTarget(
          query('A', `tcpstate_remote_port_sockets{${REMOTE}}`, {
            instant: true,
          }),
        )
        .withTransformation(STATE_MATRIX),
    )
    .withPanel(
      tablePanel({
        title: 'Busiest destinations',
        span: 12,
        description:
          'The destinations with the most sockets that block connect() right now. Confirm on the host with ' +
          'ss -tan "( dport = :PORT )" and fix with keep-alive, more source addresses or a wider port range.',
      })
        .withTarget(
          query(
            'A',
            `topk(20, ${nodeOnly(config, `tcpstate_ephemeral_ports_used{${SELECTED}}`)})`,
            {
              instant: true,
            },
          ),
        )
        .withTransformation(organizeTable({ ...DESTINATION_COLUMNS, Value: 'Ports used' })),
    );
  return buildDashboard(builder);
}
