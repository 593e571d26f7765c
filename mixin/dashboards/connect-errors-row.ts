/**
 * The overview's row for what happens between two samples (docs/connect-errors.md): failed
 * connect() and bind() calls counted per network namespace, the sockstat peaks, and the
 * samples in which a destination had no port left. In a file of its own so that it changes
 * apart from the rest of the overview.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MixinConfig } from '../config.js';
import { hostMatchers, nodeOnly, query, row, selectWith, timeseriesPanel } from './common.js';

const OWNER_LEGEND = '{{namespace}}/{{pod}} {{container}} (netns {{netns}})';

export function withConnectErrorsRow(
  builder: dashboard.DashboardBuilder,
  config: MixinConfig,
): dashboard.DashboardBuilder {
  const selected = (metric: string, extra = ''): string =>
    selectWith(metric, hostMatchers(config), extra);
  /** Counts, not rates: a few failures a minute is an outage, and 0.02/s reads as nothing. */
  const increase = (metric: string, extra = ''): string =>
    `increase(${selected(metric, extra)}[$__rate_interval])`;
  return builder
    .withRow(
      row('Between samples on $instance: counted failures (--collector.connect-errors) and peaks'),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Failed connect() and bind() calls per namespace',
        span: 8,
        description:
          'connect() calls that failed with EADDRNOTAVAIL (no ephemeral port left) and bind() calls that failed ' +
          'with EADDRINUSE, counted by the kernel as they happened, per network namespace and so per pod: ' +
          'an exhaustion shorter than a scrape interval shows here. netns "exited" is a process gone before it ' +
          'was attributed; lost: events the trace buffer dropped, failures all the same.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', increase('tcpstate_connect_errors_total'), {
            legend: `connect ${OWNER_LEGEND}`,
          }),
        )
        .withTarget(
          query('B', increase('tcpstate_bind_errors_total'), { legend: `bind ${OWNER_LEGEND}` }),
        )
        .withTarget(
          query('C', increase('tcpstate_connect_errors_lost_events_total'), { legend: 'lost' }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Sockets: the peak between samples against the sample',
        span: 8,
        description:
          'sockstat inuse and tw read every --collector.sockstat.fast-interval (250 ms): the highest value over ' +
          'the trailing --collector.sockstat.peak-window (max) against the value of the last sample. A burst of ' +
          'sockets opened and closed between two samples shows in the max only.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query(
            'A',
            nodeOnly(config, selected('tcpstate_sockstat_sockets_max', 'kind=~"inuse|tw"')),
            {
              legend: '{{family}} {{kind}} max',
            },
          ),
        )
        .withTarget(
          query('B', nodeOnly(config, selected('tcpstate_sockstat_sockets', 'kind=~"inuse|tw"')), {
            legend: '{{family}} {{kind}}',
          }),
        ),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Samples with a destination exhausted',
        span: 8,
        description:
          'Samples in which some destination had no usable ephemeral port left (used_max >= usable): times the ' +
          'sample interval, about the time spent exhausted. A prediction from the socket table; the failures ' +
          'panel says whether calls really failed.',
      })
        .unit('short')
        .min(0)
        .withTarget(
          query('A', nodeOnly(config, increase('tcpstate_ephemeral_exhausted_samples_total')), {
            legend: 'exhausted samples',
          }),
        ),
    );
}
