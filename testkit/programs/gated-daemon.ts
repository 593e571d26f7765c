/**
 * The serve command with testkit/programs/gated-worker.ts as its sampler worker: `<procfs>/gate` as a
 * FIFO keeps the worker thread blocked in the kernel, as a hung file system would.
 */

import { runServe } from '../../src/commands/serve.js';
import { parseExporterArgs } from '../../src/config/flags.js';

const parsed = parseExporterArgs(process.argv.slice(2));
if (!parsed.ok || parsed.command.action !== 'serve') throw new Error('bad test arguments');
const code = await runServe(
  parsed.command.config,
  { stdout: process.stdout, stderr: process.stderr },
  { workerScript: new URL('./gated-worker.ts', import.meta.url) },
);
process.exitCode = code;
setTimeout(() => process.exit(code), 1_000).unref();
