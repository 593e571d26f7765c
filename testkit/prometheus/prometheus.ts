/**
 * A real Prometheus (Debian `prometheus`) for tests: its own temp dir for config and TSDB, a
 * free loopback port (or a given port inside a network namespace), a typed query API, and
 * a stop that removes everything.
 *
 *   const prometheus = await startPrometheus({ config: { scrape_configs: [...] } });
 *   const result = await prometheus.query('up');
 *   await prometheus.stop();
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freeLoopbackPort, httpGet, startReadyDaemon, waitFor } from './prometheus-daemon.js';

export interface PrometheusOptions {
  /** The prometheus.yml content; `global` defaults to a 1 s scrape and evaluation interval. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Files written next to the config (rules), by name; refer to them by that name. */
  readonly files?: Readonly<Record<string, string>>;
  /** Run inside this network namespace; then `port` must be given or 9090 is used. */
  readonly netns?: string;
  readonly port?: number;
  readonly extraFlags?: readonly string[];
}

export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value?: readonly [number, string];
  readonly values?: readonly (readonly [number, string])[];
}

export interface PromQueryResult {
  readonly resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  readonly result: readonly PromSample[] | readonly [number, string];
}

export interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly dir: string;
  /** GET an API path (`/api/v1/...`) and return `data`; throws with Prometheus' error otherwise. */
  api<T>(path: string, params?: Readonly<Record<string, string>>): Promise<T>;
  /** Instant query at `time` (seconds) or now. */
  query(expr: string, time?: number): Promise<PromQueryResult>;
  queryRange(
    expr: string,
    start: number,
    end: number,
    stepSeconds: number,
  ): Promise<PromQueryResult>;
  /** Active alerts (pending and firing) as the rule manager sees them. */
  alerts(): Promise<PromAlert[]>;
  /** Waits until every scrape target reports `up` and has been scraped `scrapes` times. */
  waitForTargetsUp(options?: {
    readonly timeoutMs?: number;
    readonly scrapes?: number;
  }): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const port = options.port ?? (options.netns === undefined ? await freeLoopbackPort() : 9090);
  const dir = mkdtempSync(join(tmpdir(), 'tsa-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(dir, name), content);
  }
  writeFileSync(
    configPath,
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      ...options.config,
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const started = await startReadyDaemon(
    'prometheus',
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--rules.alert.resend-delay=1s',
      '--log.level=info',
      ...(options.extraFlags ?? []),
    ],
    {
      name: 'prometheus',
      readyUrl: `${url}/-/ready`,
      ...(options.netns === undefined ? {} : { netns: options.netns }),
      cwd: dir,
      ownedDir: dir,
    },
  );

  async function api<T>(path: string, params: Readonly<Record<string, string>> = {}): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const response = await httpGet(
      `${url}${path}${query === '' ? '' : `?${query}`}`,
      options.netns,
    );
    let parsed: { status?: string; data?: T; error?: string };
    try {
      parsed = JSON.parse(response.body) as typeof parsed;
    } catch {
      throw new Error(`prometheus ${path}: HTTP ${response.status} ${response.body.slice(0, 500)}`);
    }
    if (parsed.status !== 'success' || parsed.data === undefined) {
      throw new Error(
        `prometheus ${path} ${JSON.stringify(params)}: ${parsed.error ?? response.status}`,
      );
    }
    return parsed.data;
  }

  return {
    url,
    dir,
    api,
    query: (expr, time) =>
      api<PromQueryResult>('/api/v1/query', {
        query: expr,
        ...(time === undefined ? {} : { time: String(time) }),
      }),
    queryRange: (expr, start, end, stepSeconds) =>
      api<PromQueryResult>('/api/v1/query_range', {
        query: expr,
        start: String(start),
        end: String(end),
        step: String(stepSeconds),
      }),
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    async waitForTargetsUp(wait = {}) {
      const scrapes = wait.scrapes ?? 1;
      await waitFor(
        async () => {
          const targets = await api<{
            activeTargets: { health: string; labels: Record<string, string> }[];
          }>('/api/v1/targets', { state: 'active' });
          if (targets.activeTargets.length === 0) return undefined;
          if (targets.activeTargets.some((target) => target.health !== 'up')) return undefined;
          const counted = await api<PromQueryResult>('/api/v1/query', {
            query: `count_over_time(up[5m])`,
          });
          const samples = counted.result as readonly PromSample[];
          const enough =
            samples.length === targets.activeTargets.length &&
            samples.every((sample) => Number(sample.value?.[1]) >= scrapes);
          return enough ? true : undefined;
        },
        {
          timeoutMs: wait.timeoutMs ?? 30_000,
          describe: () => `targets not all up:\n${started.output()}`,
        },
      );
    },
    output: () => started.output(),
    stop: () => started.stop(),
  };
}
