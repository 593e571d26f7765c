/**
 * Writes the Prometheus rules, the example scrape config and the Grafana dashboards from
 * mixin/. With --check it writes nothing and exits 1 when a committed file differs.
 *
 *   npx tsx scripts/gen-mixin.ts           # regenerate
 *   npx tsx scripts/gen-mixin.ts --check   # CI: fail on drift
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../mixin/config.js';
import { renderMixin } from '../mixin/outputs.js';

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

function main(args: readonly string[]): number {
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
