/**
 * The built package (`npm run build`, as CI runs before the tests): dist/main.js must start
 * its sampling worker from dist/sampler/sample-worker.js, without tsx.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILT_CLI,
  type RunningExporter,
  startExporter,
} from '../testkit/exporter/exporter-cli.js';
import { MINIMAL_PROCFS } from '../testkit/exporter/exporter-procfs.js';
import { launcherOf } from '../testkit/exporter/launcher.js';
import { sampleValue } from '../testkit/prometheus/exposition.js';
import { httpGet, waitFor } from '../testkit/prometheus/prometheus-daemon.js';

function builtCliPresent(): boolean {
  if (existsSync(BUILT_CLI)) return true;
  const message = `SKIPPING the built CLI test: ${BUILT_CLI} is missing (run npm run build)`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: it must run)`);
  console.warn(`\n*** ${message} ***\n`);
  return false;
}

const running: RunningExporter[] = [];
afterEach(async () => {
  for (const exporter of running.splice(0)) await exporter.daemon.stop();
});

describe.skipIf(!builtCliPresent())('dist/main.js', () => {
  it('is an executable script for the package bin', () => {
    // The launcher's #! line (node, with the environment and V8 flags src/main.ts gives)
    // survives the build, and runs.
    const firstLine = (text: string) => text.slice(0, text.indexOf('\n'));
    const built = firstLine(readFileSync(BUILT_CLI, 'utf8'));
    expect(built).toBe(firstLine(readFileSync(new URL('../src/main.ts', import.meta.url), 'utf8')));
    expect(launcherOf(BUILT_CLI).nodeFlags).toContain('--max-semi-space-size=1');
    // As the kernel runs it: the interpreter, the rest of the line as one argument, the script.
    const [interpreter = '', ...rest] = built.slice(2).split(' ');
    const version = spawnSync(interpreter, [rest.join(' '), BUILT_CLI, '--version'], {
      encoding: 'utf8',
    });
    expect(version.status, version.stderr).toBe(0);
  });

  it('samples in its worker and serves the fixture numbers', async () => {
    const exporter = await startExporter([`--path.procfs=${MINIMAL_PROCFS}`], { built: true });
    running.push(exporter);
    const body = await waitFor(
      async () => {
        const response = await httpGet(`${exporter.url}/metrics`);
        return sampleValue(response.body, 'tcpstate_collector_success', {
          collector: 'sockets',
        }) === 1
          ? response.body
          : undefined;
      },
      { timeoutMs: 20_000, describe: () => exporter.daemon.output() },
    );
    expect(sampleValue(body, 'tcpstate_sockets', { family: 'ipv4', state: 'time_wait' })).toBe(3);
  });

  it('--once loads neither pino, Fastify nor the prom-client index and what it pulls in', () => {
    // What CommonJS loaded, named at exit: each of these cost a cold start a third to half of
    // `node -e 0` (docs/benchmarks.md, "Cold start").
    const dir = mkdtempSync(join(tmpdir(), 'once-modules-'));
    try {
      const preload = join(dir, 'preload.cjs');
      const listing = join(dir, 'loaded.txt');
      writeFileSync(
        preload,
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(listing)}, Object.keys(require.cache).join('\\n')));`,
      );
      const run = spawnSync(
        process.execPath,
        ['--require', preload, BUILT_CLI, '--once', `--path.procfs=${MINIMAL_PROCFS}`],
        { encoding: 'utf8' },
      );
      expect(run.status, run.stderr).toBe(0);
      const loaded = readFileSync(listing, 'utf8')
        .split('\n')
        .map((path) => path.slice(path.lastIndexOf('/node_modules/') + '/node_modules/'.length));
      expect(loaded).toContain('prom-client/lib/registry.js');
      expect(
        loaded.filter((path) =>
          /^(pino|fastify|@opentelemetry|bcryptjs|yaml)\/|^prom-client\/(index|lib\/pushgateway|lib\/cluster)\.js$/.test(
            path,
          ),
        ),
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
