/**
 * Every query of every committed dashboard, with its variables resolved the way Grafana
 * would (the variable queries themselves run first), against a real Prometheus scraping
 * the real exporter over the captured fixture trees. Each must succeed and return data.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { DASHBOARD_PATHS } from '../../mixin/outputs.js';
import { canRun } from '../helpers/capabilities.js';
import { type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { type ExporterTarget, startExporterTarget } from '../helpers/prometheus-exporter-target.js';

const repoRoot = resolve(import.meta.dirname, '../..');

/** Trees with every state, listeners with clients, and client-side TIME_WAIT toward destinations. */
const FIXTURE_TREES = ['test/fixtures/all-states/proc', 'test/fixtures/client-timewait/proc'];

/** What Grafana puts in for its built-in interval variables on a short time range. */
const BUILT_INS: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string;
  readonly includeAll?: boolean;
  readonly allValue?: string;
}
interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly instant?: boolean;
}
interface Panel {
  readonly type: string;
  readonly title?: string;
  readonly targets?: readonly Target[];
}
interface Dashboard {
  readonly templating: { readonly list: readonly Variable[] };
  readonly panels: readonly Panel[];
}

function substitute(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, plain?: string, braced?: string) => {
    const name = plain ?? braced ?? '';
    return values.get(name) ?? BUILT_INS[name] ?? whole;
  });
}

describe.skipIf(!canRun('dashboard queries against Prometheus', { commands: ['prometheus'] }))(
  'dashboard panel queries',
  () => {
    const exporters: ExporterTarget[] = [];
    let prometheus: RunningPrometheus;

    beforeAll(async () => {
      for (const tree of FIXTURE_TREES) {
        const procfs = join(repoRoot, tree);
        if (!existsSync(join(procfs, 'net/tcp'))) throw new Error(`missing fixture tree ${tree}`);
        exporters.push(await startExporterTarget({ procfs }));
      }
      prometheus = await startPrometheus({
        config: {
          scrape_configs: [
            {
              job_name: defaultConfig.jobName,
              static_configs: [{ targets: exporters.map((exporter) => exporter.address) }],
            },
          ],
        },
      });
      // rate() over the substituted 1m needs a few samples per series.
      await prometheus.waitForTargetsUp({ scrapes: 4 });
    });

    afterAll(async () => {
      await prometheus?.stop();
      for (const exporter of exporters) await exporter.stop();
    });

    for (const [name, path] of Object.entries(DASHBOARD_PATHS)) {
      it(`${name}: every variable and panel query returns data`, async () => {
        const board = JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as Dashboard;
        const values = new Map<string, string>();
        const problems: string[] = [];

        for (const variable of board.templating.list) {
          if (variable.type !== 'query') continue;
          const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.query ?? '');
          if (match?.[1] === undefined || match[2] === undefined) {
            problems.push(`variable ${variable.name}: unsupported query ${variable.query}`);
            continue;
          }
          const found = await prometheus.api<string[]>(`/api/v1/label/${match[2]}/values`, {
            'match[]': substitute(match[1], values),
          });
          if (found.length === 0) problems.push(`variable ${variable.name}: no values`);
          // "All" is what the dashboards select by default; otherwise the first value.
          values.set(
            variable.name,
            variable.includeAll ? (variable.allValue ?? '.*') : (found[0] ?? ''),
          );
        }

        let queries = 0;
        const now = Math.floor(Date.now() / 1000);
        for (const panel of board.panels) {
          for (const target of panel.targets ?? []) {
            queries += 1;
            const where = `${panel.title} [${target.refId}]`;
            const expr = substitute(target.expr, values);
            if (expr.includes('$')) {
              problems.push(`${where}: unresolved variable in ${expr}`);
              continue;
            }
            try {
              const result = target.instant
                ? await prometheus.query(expr)
                : await prometheus.queryRange(expr, now - 30, now, 1);
              if (!Array.isArray(result.result) || result.result.length === 0) {
                problems.push(`${where}: no data for ${expr}`);
              }
            } catch (error) {
              problems.push(`${where}: ${(error as Error).message}`);
            }
          }
        }
        expect(queries).toBeGreaterThan(5);
        expect(problems).toEqual([]);
      });
    }
  },
);
