/** Reading deployment files and the exporter arguments they pass, for the deploy tests. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type ExporterConfig, parseExporterArgs } from '../../src/config/flags.js';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** Every YAML document of a file, as plain data; a syntax error fails loudly. */
export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readFileSync(resolve(repoRoot, path), 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
    return document.toJS() as unknown;
  });
}

/** The configuration the real CLI parser makes of a deployment's arguments for the daemon. */
export function daemonConfig(args: readonly string[]): ExporterConfig {
  const parsed = parseExporterArgs(args);
  if (!parsed.ok) throw new Error(`the exporter rejects ${args.join(' ')}: ${parsed.message}`);
  if (parsed.command.action !== 'serve') {
    throw new Error(`${args.join(' ')} does not start the daemon (${parsed.command.action})`);
  }
  return parsed.command.config;
}
