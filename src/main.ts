#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1
import { formatHelp } from './cli/help.js';
/**
 * Entry point: `tcpstate-exporter [flags]` serves (or samples once), `tcpstate-exporter
 * doctor` diagnoses. It only dispatches; the layers below are in docs/architecture.md.
 * Each command is imported when chosen, so `--once` and doctor never load the HTTP server
 * and its dependencies (docs/benchmarks.md, cold start).
 * The #! line caps V8's young generation at 1 MiB (this thread allocates little once started,
 * and V8 otherwise keeps the 16 MiB it grew to while loading modules) and keeps glibc from
 * holding freed memory in one arena per thread (docs/reliability.md, "Memory").
 */
import { type CommandIo, writeText } from './commands/io.js';
import { EXIT } from './config/exit-codes.js';
import { EXPORTER_FLAGS, EXPORTER_HELP, parseExporterArgs } from './config/flags.js';
import { packageVersion } from './config/version.js';

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  if (argv[0] === 'doctor') {
    const { runDoctor } = await import('./commands/doctor.js');
    return runDoctor(argv.slice(1), io);
  }
  const parsed = parseExporterArgs(argv);
  if (!parsed.ok) {
    await writeText(
      io.stderr,
      `tcpstate-exporter: ${parsed.message}\nRun \`tcpstate-exporter --help\` for the flags.\n`,
    );
    return EXIT.usage;
  }
  const { command } = parsed;
  switch (command.action) {
    case 'help':
      await writeText(io.stdout, formatHelp(EXPORTER_FLAGS, EXPORTER_HELP));
      return EXIT.ok;
    case 'version':
      await writeText(
        io.stdout,
        `tcpstate-exporter ${packageVersion()} (node ${process.version})\n`,
      );
      return EXIT.ok;
    case 'once': {
      const { runOnce } = await import('./commands/once.js');
      return runOnce(command.config, io);
    }
    case 'serve': {
      const { runServe } = await import('./commands/serve.js');
      return runServe(command.config, io);
    }
  }
}

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
// Normally nothing is left and the process ends now; never linger if a handle stays open.
setTimeout(() => process.exit(code), 1_000).unref();
