/**
 * Keeps the web config current without a restart. exporter-toolkit re-reads the file on every
 * request and TLS handshake; here the config file and every file it names are stat()ed once a
 * second and reloaded when one changes (inode, size, mtime or ctime), which also catches
 * Kubernetes' secret updates (a symlink swap that fs.watch on the old inode misses) and
 * editors that replace files by rename. A broken file on reload keeps the last good config.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { loadWebConfig, type WebConfig, WebConfigError } from './web-config.js';

export const RELOAD_CHECK_MS = 1_000;

async function fingerprint(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      try {
        const info = await stat(file);
        return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
      } catch {
        return 'missing';
      }
    }),
  );
  return parts.join('|');
}

export class LiveWebConfig {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private readonly listeners: ((config: WebConfig) => void)[] = [];

  private constructor(
    private readonly path: string,
    private config: WebConfig,
    private seen: string,
    private readonly logger: Logger,
  ) {}

  /** Loads the file; a broken file throws WebConfigError (the caller exits 1). */
  static async load(path: string, logger: Logger): Promise<LiveWebConfig> {
    const config = await loadWebConfig(path);
    return new LiveWebConfig(path, config, await fingerprint(config.files), logger);
  }

  get current(): WebConfig {
    return this.config;
  }

  onChange(listener: (config: WebConfig) => void): void {
    this.listeners.push(listener);
  }

  start(periodMs = RELOAD_CHECK_MS): void {
    this.timer = setInterval(() => void this.check(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reloads when a file changed; resolves once done (one check at a time). */
  check(): Promise<void> {
    this.checking ??= this.reloadIfChanged().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async reloadIfChanged(): Promise<void> {
    const now = await fingerprint(this.config.files);
    if (now === this.seen) return;
    let next: WebConfig;
    try {
      next = await loadWebConfig(this.path);
      if ((next.tls === undefined) !== (this.config.tls === undefined)) {
        throw new WebConfigError(
          'tls_server_config',
          'TLS cannot be turned on or off without a restart',
        );
      }
    } catch (error) {
      // Remember the broken state so the error is logged once, not every second.
      this.seen = now;
      this.logger.error(
        { file: this.path, error: error instanceof Error ? error.message : String(error) },
        'web config reload failed; keeping the last good one',
      );
      return;
    }
    const sameFiles = next.files.join('\0') === this.config.files.join('\0');
    this.config = next;
    // Stat taken before the load: a write during the load is seen by the next check.
    this.seen = sameFiles ? now : await fingerprint(next.files);
    for (const listener of this.listeners) listener(next);
    this.logger.info(
      { file: this.path, tls: next.tls !== undefined, users: next.users.size },
      'web config reloaded',
    );
  }
}
