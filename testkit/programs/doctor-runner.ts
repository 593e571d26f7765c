/**
 * `tcpstate-exporter doctor` as a standalone program, for running it inside a network
 * namespace from tests: `ip netns exec NS tsx testkit/programs/doctor-runner.ts [flags]`.
 */
import { runDoctor } from '../../src/commands/doctor.js';

process.exitCode = await runDoctor(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
