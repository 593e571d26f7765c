/**
 * The committed dashboards, checked against the foundation SDK's types by the TypeScript
 * compiler (JSON as an object literal, so unknown keys and bad enum values are errors), and
 * against the rules every panel must follow.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { DASHBOARD_PATHS } from '../../mixin/outputs.js';
import { hostLabels } from '../../mixin/promql.js';
import { RECORDED } from '../../mixin/recording.js';
import {
  CONTRACT_METRICS,
  metricNames,
  PER_NAMESPACE_FAMILY,
  recordedNames,
} from '../../testkit/mixin/metric-contract.js';

const repoRoot = resolve(import.meta.dirname, '../..');
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const DATASOURCE_UID = '${datasource}';
const HOST_LABELS = hostLabels(defaultConfig);

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { readonly uid?: string };
}
interface PanelJson {
  readonly type: string;
  readonly id: number;
  readonly title?: string;
  readonly description?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly gridPos: {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
  };
  readonly targets?: readonly Target[];
}
interface DashboardJson {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly PanelJson[];
  readonly templating: {
    readonly list: readonly {
      readonly name: string;
      readonly type: string;
      readonly query?: unknown;
    }[];
  };
}

const dashboards = Object.entries(DASHBOARD_PATHS).map(([name, path]) => ({
  name,
  path,
  text: readFileSync(join(repoRoot, path), 'utf8'),
}));

/**
 * SDK types as JSON sees them: string enums become their literal values, methods (the
 * query's variant marker) disappear. Panels are checked per type against their options.
 */
const TYPE_PRELUDE = `
import type * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
type Method = (...args: never[]) => unknown;
type Json<T> = T extends Method ? never
  : T extends string ? \`\${T}\`
  : T extends readonly (infer U)[] ? Json<U>[]
  : T extends object ? { [K in keyof T as T[K] extends Method ? never : K]: Json<T[K]> }
  : T;
type Query = Json<prometheus.Dataquery>;
type PanelOf<Type extends string, Options, Custom> =
  Omit<Json<dashboard.Panel>, 'type' | 'targets' | 'options' | 'fieldConfig'> & {
    type: Type;
    targets: Query[];
    options: Json<Options>;
    fieldConfig: {
      defaults: Omit<Json<dashboard.FieldConfig>, 'custom'> & { custom?: Json<Custom> };
      overrides: Json<dashboard.FieldConfigSource['overrides']>;
    };
  };
type AnyPanel =
  | PanelOf<'timeseries', timeseries.Options, timeseries.FieldConfig>
  | PanelOf<'stat', stat.Options, Record<string, never>>
  | PanelOf<'table', table.Options, table.FieldConfig>
  | Json<dashboard.RowPanel>;
type DashboardJson = Omit<Json<dashboard.Dashboard>, 'panels'> & { panels: AnyPanel[] };
export type { common };
`;

/** Type-checks each source (a module under test/mixin) and returns its diagnostics. */
function typeCheck(sources: Readonly<Record<string, string>>): Map<string, string[]> {
  const configPath = join(repoRoot, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(
    ts.readConfigFile(configPath, ts.sys.readFile).config,
    ts.sys,
    repoRoot,
  );
  const files = new Map(
    Object.entries(sources).map(([name, text]) => [
      join(repoRoot, 'test/mixin', `${name}.ts`),
      text,
    ]),
  );
  const options = { ...parsed.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, language, onError, create) => {
    const text = files.get(fileName);
    return text === undefined
      ? getSourceFile(fileName, language, onError, create)
      : ts.createSourceFile(fileName, text, language);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => files.has(fileName) || fileExists(fileName);
  const program = ts.createProgram([...files.keys()], options, host);
  const result = new Map<string, string[]>();
  for (const [fileName] of files) {
    const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(fileName));
    result.set(
      fileName.replace(/^.*\/|\.ts$/g, ''),
      diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    );
  }
  return result;
}

function source(json: string): string {
  return `${TYPE_PRELUDE}\nexport const checked: DashboardJson = ${json};\n`;
}

/**
 * Aggregations in `expr` that add hosts together: `sum(...)`, `sum by (x) (...)` without
 * cluster, job and instance among the kept labels. `without (...)` keeps them unless it names one.
 */
function acrossHosts(expr: string): string[] {
  const found: string[] = [];
  const aggregation =
    /\b(sum|avg|min|max|count|topk|bottomk|quantile|stddev|stdvar|group)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(/g;
  for (const match of expr.matchAll(aggregation)) {
    const [whole, , clause, labels = ''] = match;
    const names = labels.split(',').map((label) => label.trim());
    // The cluster too: where the clusters of a fleet meet, one instance name can be in each.
    const keepsHost =
      clause === 'by'
        ? HOST_LABELS.every((label) => names.includes(label))
        : clause === 'without' && !HOST_LABELS.some((label) => names.includes(label));
    if (!keepsHost && !isSingleSeriesPick(expr, match.index ?? 0)) found.push(whole);
  }
  return found;
}

/** `topk(N, x)` with a single host selected ranks that host's series only: not a sum. */
function isSingleSeriesPick(expr: string, at: number): boolean {
  return /^(topk|bottomk)\s*\(/.test(expr.slice(at));
}

function panelsWithQueries(board: DashboardJson): PanelJson[] {
  return board.panels.filter((panel) => panel.type !== 'row');
}

describe('generated dashboards', () => {
  it('catch a panel that adds hosts or clusters together', () => {
    expect(acrossHosts('sum by (state) (tcpstate_sockets{x})')).toEqual(['sum by (state) (']);
    expect(acrossHosts('sum(rate(a[1m]))')).toEqual(['sum(']);
    expect(acrossHosts('sum by (cluster, job, instance, le) (rate(a[1m]))')).toEqual([]);
    expect(acrossHosts('sum by (job, instance, le) (rate(a[1m]))')).toEqual([
      'sum by (job, instance, le) (',
    ]);
    expect(acrossHosts('min without (collector) (a)')).toEqual([]);
    expect(acrossHosts('max without (instance) (a)')).toEqual(['max without (instance) (']);
    expect(acrossHosts('max without (cluster) (a)')).toEqual(['max without (cluster) (']);
  });

  it('match the foundation SDK types; a broken copy does not', () => {
    const sources: Record<string, string> = {};
    for (const board of dashboards) sources[`tsa-typecheck-${board.name}`] = source(board.text);
    const overview = JSON.parse(dashboards[0]?.text ?? '{}') as {
      panels: Record<string, unknown>[];
    };
    const broken = (mutate: (panel: Record<string, unknown>) => void): string => {
      const copy = structuredClone(overview);
      const panel = copy.panels.find((p) => p.type === 'timeseries');
      if (panel === undefined) throw new Error('no timeseries panel');
      mutate(panel);
      return source(JSON.stringify(copy));
    };
    sources['tsa-typecheck-unknown-key'] = broken((panel) => {
      panel.descripton = 'typo';
    });
    sources['tsa-typecheck-bad-enum'] = broken((panel) => {
      (panel.options as { legend: { displayMode: string } }).legend.displayMode = 'lst';
    });
    sources['tsa-typecheck-bad-expr'] = broken((panel) => {
      (panel.targets as { refId: string; expr: unknown }[])[0] = { refId: 'A', expr: 42 };
    });

    const diagnostics = typeCheck(sources);
    for (const board of dashboards) {
      expect(diagnostics.get(`tsa-typecheck-${board.name}`), board.path).toEqual([]);
    }
    for (const name of ['unknown-key', 'bad-enum', 'bad-expr']) {
      expect(diagnostics.get(`tsa-typecheck-${name}`)?.length, name).toBeGreaterThan(0);
    }
  }, 60_000);

  for (const board of dashboards) {
    describe(board.path, () => {
      const parsed = JSON.parse(board.text) as DashboardJson;

      it('has the datasource, cluster, job and instance variables, each under the one before', () => {
        const variables = new Map(parsed.templating.list.map((v) => [v.name, v]));
        expect(parsed.templating.list.slice(0, 4).map((v) => v.name)).toEqual([
          'datasource',
          'cluster',
          'job',
          'instance',
        ]);
        expect(variables.get('datasource')).toMatchObject({
          type: 'datasource',
          query: 'prometheus',
        });
        expect(variables.get('cluster')).toMatchObject({ type: 'query', includeAll: false });
        expect(String(variables.get('cluster')?.query)).toContain(defaultConfig.selector);
        expect(String(variables.get('job')?.query)).toContain('cluster="$cluster"');
        expect(String(variables.get('instance')?.query)).toContain('cluster="$cluster",job="$job"');
      });

      it('gives every panel a title, a description and queries on $datasource', () => {
        const panels = panelsWithQueries(parsed);
        expect(panels.length).toBeGreaterThan(5);
        for (const panel of panels) {
          expect(panel.title, `panel ${panel.id}`).toBeTruthy();
          expect(panel.description?.length ?? 0, `${panel.title}: description`).toBeGreaterThan(80);
          expect(panel.datasource).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
          expect(panel.targets?.length ?? 0, `${panel.title}: targets`).toBeGreaterThan(0);
          const refIds = (panel.targets ?? []).map((target) => target.refId);
          expect(new Set(refIds).size, `${panel.title}: unique refIds`).toBe(refIds.length);
          for (const target of panel.targets ?? []) {
            expect(target.datasource?.uid).toBe(DATASOURCE_UID);
            const fleet = /^Fleet\b/.test(panel.title ?? '');
            expect(target.expr, panel.title).toContain(
              fleet
                ? 'cluster="$cluster",job="$job"'
                : 'cluster="$cluster",job="$job",instance=~"$instance"',
            );
            expect(acrossHosts(target.expr), panel.title).toEqual([]);
            for (const metric of metricNames(target.expr)) {
              expect(CONTRACT_METRICS.has(metric), `${panel.title}: ${metric}`).toBe(true);
            }
            for (const name of recordedNames(target.expr)) {
              expect(Object.values(RECORDED) as string[], `${panel.title}: ${name}`).toContain(
                name,
              );
            }
          }
        }
      });

      it('shows the node’s own network namespace, or on the pods board every other one, never both', () => {
        // tcpstate_netns_info exists for every namespace but the node's (--collector.netns).
        const filter =
          board.name === 'pods'
            ? 'and on (cluster, job, instance, netns) tcpstate_netns_info{'
            : 'unless on (cluster, job, instance, netns) tcpstate_netns_info{';
        for (const panel of panelsWithQueries(parsed)) {
          for (const target of panel.targets ?? []) {
            if (!PER_NAMESPACE_FAMILY.test(target.expr)) continue;
            const reads = target.expr.match(new RegExp(PER_NAMESPACE_FAMILY, 'g')) ?? [];
            expect(
              target.expr.split(filter).length - 1,
              `${panel.title}: ${target.expr}`,
            ).toBeGreaterThanOrEqual(reads.length);
          }
        }
      });

      it('lays panels out on the 24-column grid without overlap, with unique ids', () => {
        const cells = new Set<string>();
        for (const panel of parsed.panels) {
          const { x, y, w, h } = panel.gridPos;
          expect(x + w, panel.title).toBeLessThanOrEqual(24);
          for (let column = x; column < x + w; column += 1) {
            for (let line = y; line < y + h; line += 1) {
              const cell = `${column},${line}`;
              expect(cells.has(cell), `${panel.title} overlaps at ${cell}`).toBe(false);
              cells.add(cell);
            }
          }
        }
        const ids = parsed.panels.map((panel) => panel.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(parsed.uid).toMatch(/^tcpstate-/);
      });
    });
  }
});
