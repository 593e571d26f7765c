/**
 * A real Alertmanager (Debian `prometheus-alertmanager`) with short group timings, and a
 * webhook sink that records what it delivers. Both run on 127.0.0.1, inside a network
 * namespace when one is given, with their own temp dirs, removed on stop.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freeLoopbackPort, httpGet, startReadyDaemon, waitFor } from './prometheus-daemon.js';

const repoRoot = resolve(import.meta.dirname, '../..');

/** Debian installs the binary as `prometheus-alertmanager`; upstream calls it `alertmanager`. */
export function alertmanagerCommand(): string {
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
      return name;
    } catch {
      // Try the next name.
    }
  }
  return 'prometheus-alertmanager';
}

/** One alert in an Alertmanager webhook notification. */
export interface NotifiedAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
}

export interface WebhookNotification {
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly alerts: readonly NotifiedAlert[];
}

export interface WebhookSink {
  readonly url: string;
  notifications(): WebhookNotification[];
  /** Waits for a delivered alert matching `predicate` and returns it. */
  waitForAlert(
    predicate: (alert: NotifiedAlert) => boolean,
    timeoutMs: number,
  ): Promise<NotifiedAlert>;
  stop(): Promise<void>;
}

export async function startWebhookSink(
  options: { readonly netns?: string; readonly port?: number } = {},
): Promise<WebhookSink> {
  const port = options.port ?? (options.netns === undefined ? await freeLoopbackPort() : 9099);
  const dir = mkdtempSync(join(tmpdir(), 'tsa-webhook-'));
  const file = join(dir, 'notifications.jsonl');
  const url = `http://127.0.0.1:${port}/`;
  const daemon = await startReadyDaemon(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'testkit/programs/alertmanager-webhook-sink.ts'),
      String(port),
      file,
    ],
    {
      name: 'webhook sink',
      readyUrl: url,
      ...(options.netns === undefined ? {} : { netns: options.netns }),
      cwd: repoRoot,
      ownedDir: dir,
    },
  );
  const notifications = (): WebhookNotification[] =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as WebhookNotification)
      : [];
  return {
    url,
    notifications,
    waitForAlert: (predicate, timeoutMs) =>
      waitFor(
        () =>
          notifications()
            .flatMap((n) => n.alerts)
            .find(predicate),
        {
          timeoutMs,
          describe: () =>
            `no matching alert; delivered so far:\n${JSON.stringify(notifications(), null, 1)}`,
        },
      ),
    stop: () => daemon.stop(),
  };
}

export interface RunningAlertmanager {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Routes every alert, grouped by all its labels, to `webhookUrl` with resolved
 * notifications, after 1 s instead of the production defaults of 30 s and 5 m.
 */
export async function startAlertmanager(options: {
  readonly webhookUrl: string;
  readonly netns?: string;
  readonly port?: number;
  /** Alertmanager's `inhibit_rules`, as a deployment ships them. */
  readonly inhibitRules?: readonly unknown[];
}): Promise<RunningAlertmanager> {
  const port = options.port ?? (options.netns === undefined ? await freeLoopbackPort() : 9093);
  const dir = mkdtempSync(join(tmpdir(), 'tsa-alertmanager-'));
  const configPath = join(dir, 'alertmanager.yml');
  writeFileSync(
    configPath,
    stringify({
      route: {
        receiver: 'webhook',
        group_by: ['...'],
        group_wait: '1s',
        group_interval: '1s',
        repeat_interval: '1h',
      },
      receivers: [
        { name: 'webhook', webhook_configs: [{ url: options.webhookUrl, send_resolved: true }] },
      ],
      ...(options.inhibitRules === undefined ? {} : { inhibit_rules: options.inhibitRules }),
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startReadyDaemon(
    alertmanagerCommand(),
    [
      `--config.file=${configPath}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No gossip: a lone instance must not listen on 0.0.0.0:9094.
      '--cluster.listen-address=',
    ],
    {
      name: 'alertmanager',
      readyUrl: `${url}/-/ready`,
      ...(options.netns === undefined ? {} : { netns: options.netns }),
      cwd: dir,
      ownedDir: dir,
    },
  );
  return { url, output: () => daemon.output(), stop: () => daemon.stop() };
}

/** Alerts Alertmanager holds right now (for failure messages). */
export async function alertmanagerAlerts(url: string, netns?: string): Promise<string> {
  return (await httpGet(`${url}/api/v2/alerts`, netns)).body;
}
