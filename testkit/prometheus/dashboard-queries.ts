/**
 * Runs every variable and panel query of a committed dashboard against a real Prometheus,
 * with the variables resolved the way Grafana would (their queries run first; "All" where a
 * variable offers it, else its first value, or the value the caller chooses). Each query must
 * return data; a host's panel must show the selected host only, and a panel titled "Fleet" every
 * host; with `sameLabels`, every series must carry those labels (one cluster's answer).
 */
import { readFileSync } from 'node:fs';
import type { PromSample, RunningPrometheus } from './prometheus.js';

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

export interface DashboardQueryCheck {
  /** Panel queries run. */
  readonly queries: number;
  /** Of those, the ones that returned data. */
  readonly answered: number;
  /** Every query that failed, returned nothing or showed the wrong hosts. */
  readonly problems: readonly string[];
}

export async function checkDashboardQueries(
  prometheus: RunningPrometheus,
  dashboardPath: string,
  options: {
    /** Hosts the scrape job has: the instance variable and fleet panels show them all. */
    readonly instances: number;
    /** Queries allowed to return nothing here, with the reason the caller checks. */
    readonly mayBeEmpty?: RegExp;
    /**
     * Variables allowed to list no value; default the cluster, which one Prometheus without
     * external_labels leaves empty (and `cluster=""` then matches every series).
     */
    readonly emptyVariables?: readonly string[];
    /** Values to choose instead of the first one, by variable. */
    readonly choose?: Readonly<Record<string, string>>;
    /** Labels every returned series must carry with these values (its cluster). */
    readonly sameLabels?: Readonly<Record<string, string>>;
  },
): Promise<DashboardQueryCheck> {
  const board = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
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
    if (found.length === 0 && !(options.emptyVariables ?? ['cluster']).includes(variable.name))
      problems.push(`variable ${variable.name}: no values`);
    const chosen = options.choose?.[variable.name];
    if (chosen !== undefined && !found.includes(chosen))
      problems.push(`variable ${variable.name}: ${chosen} not among ${found.join(', ')}`);
    if (variable.name === 'instance' && found.length !== options.instances)
      problems.push(`variable instance: ${found.join(', ')}`);
    // "All" where the variable offers it, otherwise the first value (one host).
    values.set(
      variable.name,
      chosen ?? (variable.includeAll ? (variable.allValue ?? '.*') : (found[0] ?? '')),
    );
  }

  let queries = 0;
  let answered = 0;
  const now = Math.floor(Date.now() / 1000);
  for (const panel of board.panels) {
    const fleet = /^Fleet\b/.test(panel.title ?? '');
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
        const samples = result.result as readonly PromSample[];
        if (samples.length > 0) answered += 1;
        if (samples.length === 0) {
          if (!options.mayBeEmpty?.test(expr)) problems.push(`${where}: no data for ${expr}`);
          continue;
        }
        for (const [label, value] of Object.entries(options.sameLabels ?? {})) {
          const other = samples.find((sample) => sample.metric[label] !== value);
          if (other !== undefined)
            problems.push(`${where}: a series with ${label}="${other.metric[label] ?? ''}"`);
        }
        const instances = new Set(samples.map((sample) => sample.metric.instance));
        if (fleet && instances.size !== options.instances)
          problems.push(`${where}: fleet panel shows ${[...instances].join(', ')}`);
        if (!fleet && (instances.size !== 1 || !instances.has(values.get('instance'))))
          problems.push(`${where}: shows ${[...instances].join(', ')}, not the selected host`);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
      }
    }
  }
  return { queries, answered, problems };
}
