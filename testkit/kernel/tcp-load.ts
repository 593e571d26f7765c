/**
 * Bounded TCP load inside a network namespace for the end-to-end tests: the modes of
 * testkit/programs/doctor-load.ts (serve, churn, connect, ...), each in a process of its
 * own that ends by itself.
 */
import { join, resolve } from 'node:path';
import { type Daemon, startDaemon, waitFor } from '../prometheus/prometheus-daemon.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const LOAD_SCRIPT = join(REPO_ROOT, 'testkit/programs/doctor-load.ts');

export interface LoadServer {
  readonly address: string;
  readonly port: number;
}

/** Starts `doctor-load.ts MODE ADDRESS PORT ...rest` inside `ns`. */
export function startLoad(
  ns: string,
  mode: string,
  server: LoadServer,
  ...rest: readonly string[]
): Daemon {
  return startDaemon(
    process.execPath,
    ['--import', 'tsx', LOAD_SCRIPT, mode, server.address, String(server.port), ...rest],
    { netns: ns, cwd: REPO_ROOT },
  );
}

/** Waits until the load prints `word` (`listening`, `done`) and returns its output. */
export async function loadSaid(daemon: Daemon, word: string): Promise<string> {
  await waitFor(() => (daemon.output().includes(word) ? true : undefined), {
    timeoutMs: 60_000,
    describe: () => `no "${word}":\n${daemon.output()}`,
  });
  return daemon.output();
}
