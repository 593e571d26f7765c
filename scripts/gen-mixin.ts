/**
 * Writes the Prometheus rules, the example scrape config and the Grafana dashboards from
 * mixin/. With --check it writes nothing and exits 1 when a committed file differs. With
 * --out it writes the monitoring-mixins layout for your own settings (docs/alerts.md).
 *
 *   npx tsx scripts/gen-mixin.ts           # regenerate
 *   npx tsx scripts/gen-mixin.ts --check   # CI: fail on drift
 *   npx tsx scripts/gen-mixin.ts --config my-settings.json --out build/tcpstate-mixin
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, withOverrides } from '../mixin/config.js';
import { renderMixin, renderMixinOutputs } from '../mixin/outputs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Paths whose committed content differs from what the mixin generates. */
export function driftedFiles(repoRoot: string): string[] {
  return [...renderMixin(defaultConfig)]
    .filter(([path, content]) => readOrUndefined(resolve(repoRoot, path)) !== content)
    .map(([path]) => path);
}

const USAGE = 'usage: gen-mixin.ts [--check] | [--config <settings.json>] --out <directory>';

/** Writes the rules and dashboards for the settings in `configPath` (JSON) under `outDir`. */
export function writeOutputs(configPath: string | undefined, outDir: string): string[] {
  const config =
    configPath === undefined
      ? defaultConfig
      : withOverrides(JSON.parse(readFileSync(configPath, 'utf8')) as unknown);
  return [...renderMixinOutputs(config)].map(([path, content]) => {
    const target = resolve(outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    return target;
  });
}

function main(args: readonly string[]): number {
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    if (arg === '--check') continue;
    const value = args[index + 1];
    if ((arg === '--config' || arg === '--out') && value !== undefined) {
      values.set(arg, value);
      index += 1;
      continue;
    }
    console.error(`gen-mixin: bad flag ${arg}\n${USAGE}`);
    return 2;
  }
  if (values.has('--config') && !values.has('--out')) {
    console.error(
      `gen-mixin: --config needs --out (the committed files keep the defaults)\n${USAGE}`,
    );
    return 2;
  }
  const outDir = values.get('--out');
  if (outDir !== undefined) {
    try {
      for (const path of writeOutputs(values.get('--config'), outDir)) console.log(`wrote ${path}`);
    } catch (error) {
      console.error(`gen-mixin: --config ${values.get('--config')}: ${(error as Error).message}`);
      return 2;
    }
    return 0;
  }
  if (args.includes('--check')) {
    const drifted = driftedFiles(root);
    if (drifted.length === 0) return 0;
    console.error(
      `Generated mixin files are out of date:\n${drifted.map((path) => `  ${path}`).join('\n')}\n` +
        'Run `npm run gen:mixin` and commit the result (see `git diff` for what changed).',
    );
    return 1;
  }
  for (const [path, content] of renderMixin(defaultConfig)) {
    const target = resolve(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote ${path}`);
  }
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
