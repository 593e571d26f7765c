/**
 * Building blocks shared by the dashboards: the datasource, cluster, job and instance variables,
 * Prometheus queries bound to the datasource variable, and panels that always carry a
 * description.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type { MixinConfig } from '../config.js';
import { NETNS_INFO, onNamespace } from '../promql.js';

export const DATASOURCE: common.DataSourceRef = {
  type: 'prometheus',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
  uid: '${datasource}',
};

/**
 * Matchers of the panels titled "Fleet": the exporter's selector and the chosen cluster and
 * group (every host of the job, whichever is selected). Each variable is named after its label.
 */
export function fleetMatchers(config: MixinConfig): string {
  return [config.selector, ...fleetLabels(config).map((label) => `${label}="$${label}"`)]
    .filter((part) => part !== '')
    .join(',');
}

/** Matchers every other panel query starts with: the chosen cluster, group and host. */
export function hostMatchers(config: MixinConfig): string {
  return [
    fleetMatchers(config),
    ...config.instanceLabels.map((label) => `${label}=~"$${label}"`),
  ].join(',');
}

/** `metric{matchers,extra}`: a panel's series selector, `extra` being more matchers or none. */
export function selectWith(metric: string, matchers: string, extra = ''): string {
  return `${metric}{${matchers}${extra === '' ? '' : `,${extra}`}}`;
}

function fleetLabels(config: MixinConfig): string[] {
  return [...new Set([config.clusterLabel, ...config.groupLabels])];
}

const VARIABLE_TEXT: Readonly<Record<string, readonly [string, string]>> = {
  job: ['Job', 'The scrape job of tcpstate-exporter.'],
  instance: ['Instance', 'The host running tcpstate-exporter whose detail the panels show.'],
};

/**
 * `expr` for the node's own network namespace only. With --collector.netns the node's
 * families hold every pod's series too (told apart by `netns`), and only the other
 * namespaces have a tcpstate_netns_info: headroom is per namespace, so no panel of the
 * node's may add them up. `selector` picks the tcpstate_netns_info of the same hosts.
 */
export function nodeOnly(
  config: MixinConfig,
  expr: string,
  selector = hostMatchers(config),
): string {
  return `(${expr} unless ${onNamespace(config)} ${NETNS_INFO}{${selector}})`;
}

/** `expr` for the namespaces other than the node's whose tcpstate_netns_info `selector` picks. */
export function namespacesOnly(config: MixinConfig, expr: string, selector: string): string {
  return `(${expr} and ${onNamespace(config)} ${NETNS_INFO}{${selector}})`;
}

/**
 * Every dashboard's variables: datasource, then cluster, group and instance labels, each
 * listing the values under the ones before it. One host at a time: a panel that added hosts
 * together would hide the one in trouble; the fleet table shows them all. Where no series
 * has a cluster label the cluster variable is empty, and `cluster=""` matches every series.
 */
export function baseVariables(config: MixinConfig): cog.Builder<dashboard.VariableModel>[] {
  const labels = [...fleetLabels(config), ...config.instanceLabels];
  return [
    new dashboard.DatasourceVariableBuilder('datasource')
      .label('Data source')
      .type('prometheus')
      .description(
        'The Prometheus that scrapes tcpstate-exporter, or the one where clusters meet.',
      ),
    ...labels.map((label, index) => {
      const above = labels.slice(0, index).map((name) => `${name}="$${name}"`);
      const matchers = [config.selector, ...above].filter((part) => part !== '').join(',');
      const [title, description] =
        label === config.clusterLabel
          ? [
              'Cluster',
              `The ${label} label (Prometheus external_labels): empty where there is one Prometheus.`,
            ]
          : (VARIABLE_TEXT[label] ?? [label, `The ${label} label of tcpstate-exporter's series.`]);
      return labelVariable(
        label,
        title,
        `label_values(tcpstate_build_info{${matchers}}, ${label})`,
      ).description(description);
    }),
  ];
}

/** A variable whose values are one label's values, refreshed with the time range. */
export function labelVariable(
  name: string,
  label: string,
  query: string,
): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.NaturalAsc);
}

export interface QueryOptions {
  readonly legend?: string;
  /** Tables read one instant value per series. */
  readonly instant?: boolean;
}

export function query(
  refId: string,
  expr: string,
  options: QueryOptions = {},
): prometheus.DataqueryBuilder {
  const builder = new prometheus.DataqueryBuilder()
    .refId(refId)
    .datasource(DATASOURCE)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(expr)
    .legendFormat(options.legend ?? '__auto');
  return options.instant
    ? builder.instant().format(prometheus.PromQueryFormat.Table)
    : builder.range();
}

export interface PanelText {
  readonly title: string;
  /** What the panel shows and what to do about it, for someone new to TCP states. */
  readonly description: string;
  /** Grid columns out of 24. */
  readonly span: number;
  readonly height?: number;
}

export function timeseriesPanel(text: PanelText): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(text.title)
    .description(text.description)
    .datasource(DATASOURCE)
    .span(text.span)
    .height(text.height ?? 8)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi));
}

export function statPanel(text: PanelText): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(text.title)
    .description(text.description)
    .datasource(DATASOURCE)
    .span(text.span)
    .height(text.height ?? 8)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value);
}

export function tablePanel(text: PanelText): table.PanelBuilder {
  return new table.PanelBuilder()
    .title(text.title)
    .description(text.description)
    .datasource(DATASOURCE)
    .span(text.span)
    .height(text.height ?? 8);
}

/**
 * Ephemeral ports blocked (query A, legend `usedLegend`) against the usable ports (query B):
 * where the lines meet, connect() to that destination fails.
 */
export function portsUsedAgainstUsablePanel(
  config: MixinConfig,
  text: PanelText,
  usedExpr: string,
  usedLegend: string,
): timeseries.PanelBuilder {
  return timeseriesPanel(text)
    .unit('short')
    .min(0)
    .withTarget(query('A', usedExpr, { legend: usedLegend }))
    .withTarget(
      query('B', nodeOnly(config, `tcpstate_ephemeral_ports_usable{${hostMatchers(config)}}`), {
        legend: 'usable',
      }),
    );
}

/** Threshold steps: the colour from each value upwards. */
export function thresholds(
  steps: readonly { readonly value: number | null; readonly color: string }[],
): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map((step) => ({ value: step.value, color: step.color })));
}

/** Red at the critical share of ports blocked, orange at the warning share: the alerts' levels. */
export function headroomThresholds(config: MixinConfig): dashboard.ThresholdsConfigBuilder {
  return thresholds([
    { value: null, color: 'red' },
    { value: 1 - config.ephemeral.criticalRatio, color: 'orange' },
    { value: 1 - config.ephemeral.warningRatio, color: 'green' },
  ]);
}

/** A dashed line at the thresholds, for limits drawn on a time series. */
export function thresholdLine(): common.GraphThresholdsStyleConfigBuilder {
  return new common.GraphThresholdsStyleConfigBuilder().mode(
    common.GraphThresholdsStyleMode.Dashed,
  );
}

/** Hides the columns Prometheus adds to every table row and names the value columns. */
export function organizeTable(
  renameByName: Readonly<Record<string, string>>,
): dashboard.DataTransformerConfig {
  return {
    id: 'organize',
    options: {
      excludeByName: { Time: true, __name__: true, job: true },
      renameByName,
    },
  };
}

/** Table columns naming a destination, as the ephemeral metrics label it. */
export const DESTINATION_COLUMNS: Readonly<Record<string, string>> = {
  instance: 'Host',
  local_address: 'Local address',
  remote_address: 'Remote address',
  remote_port: 'Remote port',
};

/**
 * Destinations right now, one row each: blocking ports (query `blocking`), their share of the
 * usable ports, all TIME_WAIT toward it, and how long a closed connection blocks its port.
 */
export function destinationsTable(
  text: PanelText,
  exprs: {
    readonly blocking: string;
    readonly share: string;
    readonly timeWait: string;
    readonly hold: string;
  },
  options: {
    /** Columns naming a row beyond the destination (host, pod...). */
    readonly columns: Readonly<Record<string, string>>;
    readonly sortBy: 'Blocking ports' | 'Share of usable';
  },
): table.PanelBuilder {
  return tablePanel(text)
    .withTarget(query('A', exprs.blocking, { instant: true }))
    .withTarget(query('B', exprs.share, { instant: true }))
    .withTarget(query('C', exprs.timeWait, { instant: true }))
    .withTarget(query('D', exprs.hold, { instant: true }))
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation(
      organizeTable({
        ...options.columns,
        ...DESTINATION_COLUMNS,
        'Value #A': 'Blocking ports',
        'Value #B': 'Share of usable',
        'Value #C': 'TIME_WAIT',
        'Value #D': 'Port blocked for',
      }),
    )
    .sortBy([new common.TableSortByFieldStateBuilder().displayName(options.sortBy).desc(true)])
    .overrideByName('Share of usable', [{ id: 'unit', value: 'percentunit' }])
    .overrideByName('Port blocked for', [{ id: 'unit', value: 's' }]);
}

export function newDashboard(
  config: MixinConfig,
  name: string,
  title: string,
  description: string,
): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(`${config.grafana.uidPrefix}-${name}`)
    .description(description)
    .tags([...config.grafana.tags])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh(config.grafana.refresh)
    .time({ from: config.grafana.timeFrom, to: 'now' })
    .timezone('browser')
    .link(
      new dashboard.DashboardLinkBuilder('TCP state dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([config.grafana.tags[0] ?? 'tcpstate'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}

export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title).collapsed(false);
}

/** Builds the dashboard and numbers its panels in order, so panel links stay stable. */
export function buildDashboard(builder: dashboard.DashboardBuilder): dashboard.Dashboard {
  const built = builder.build();
  let id = 0;
  for (const panel of built.panels ?? []) {
    id += 1;
    panel.id = id;
  }
  return built;
}
