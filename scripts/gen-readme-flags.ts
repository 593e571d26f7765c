/**
 * Writes the exporter's flag table into README.md between `<!-- flags:start -->` and
 * `<!-- flags:end -->`. With --check it writes nothing and exits 1 when the README is stale.
 *
 *   tsx scripts/gen-readme-flags.ts [--check] [README path]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withFlagTable } from '../scripts/readme-flags.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const path = args.find((arg) => arg !== '--check') ?? 'README.md';

const current = readFileSync(path, 'utf8');
const wanted = withFlagTable(current);
if (check) {
  if (wanted !== current) {
    process.stderr.write(`${path}: the flag table is stale; run npm run gen:readme\n`);
    process.exitCode = 1;
  }
} else if (wanted !== current) {
  writeFileSync(path, wanted);
  process.stdout.write(`${path}: flag table updated\n`);
}
