#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * Entry point: `tcpstate-exporter [flags]` runs the exporter, `tcpstate-exporter doctor` diagnoses.
 * The #! line caps V8's young generation at 1 MiB: this thread allocates little once started,
 * and V8 otherwise keeps the 16 MiB it grew to while loading modules (docs/reliability.md).
 */
import { EXPORTER_FLAGS, EXPORTER_HELP, parseExporterArgs } from './cli/flags.js';
import { formatHelp } from './cli/help.js';
import { type CommandIo, writeText } from './cli/io.js';
import { runOnce } from './cli/once.js';
import { packageVersion } from './cli/version.js';
import { runDoctor } from './doctor/command.js';
import { runDaemon } from './server/daemon.js';

/** Bad command line, as with every Prometheus exporter. */
const EXIT_USAGE = 2;

export async function main(argv: string[], io: CommandIo): Promise<number> {
  if (argv[0] === 'doctor') return runDoctor(argv.slice(1), io);
  const parsed = parseExporterArgs(argv);
  if (!parsed.ok) {
    await writeText(
      io.stderr,
      `tcpstate-exporter: ${parsed.message}\nRun \`tcpstate-exporter --help\` for the flags.\n`,
    );
    return EXIT_USAGE;
  }
  const { command } = parsed;
  switch (command.action) {
    case 'help':
      await writeText(io.stdout, formatHelp(EXPORTER_FLAGS, EXPORTER_HELP));
      return 0;
    case 'version':
      await writeText(
        io.stdout,
        `tcpstate-exporter ${packageVersion()} (node ${process.version})\n`,
      );
      return 0;
    case 'once':
      return runOnce(command.config, io);
    case 'serve':
      return runDaemon(command.config, io);
  }
}

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
// Normally nothing is left and the process ends now; never linger if a handle stays open.
setTimeout(() => process.exit(code), 1_000).unref();
