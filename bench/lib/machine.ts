/** The machine and tool versions a run measured, printed first and in the report. */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { BenchOptions } from './options.js';
import type { MachineInfo } from './results.js';

/** First line of a command's output, or undefined when it is missing or fails. */
export function commandOutput(command: string, args: readonly string[]): string | undefined {
  try {
    const output = execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    });
    return output.split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

export function describeMachine(options: BenchOptions): MachineInfo {
  const commit = commandOutput('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const dirty = commandOutput('git', ['status', '--porcelain', '--', 'src']);
  const tools: Record<string, string> = {};
  for (const [name, command, args] of [
    ['hyperfine', 'hyperfine', ['--version']],
    ['ss', 'ss', ['-V']],
    ['node_exporter', 'prometheus-node-exporter', ['--version']],
    ['perl', 'perl', ['-e', 'print $^V']],
  ] as const) {
    const version = commandOutput(command, args);
    if (version !== undefined) tools[name] = version;
  }
  return {
    kind: 'machine',
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    kernel: release(),
    node: process.version,
    memoryBytes: totalmem(),
    loadAverageAtStart: loadavg().map((load) => Math.round(load * 100) / 100),
    commit: dirty ? `${commit} (src modified)` : commit,
    startedAt: new Date().toISOString(),
    tools,
    run: { quick: options.quick, sizes: options.sizes, parts: [...options.parts] },
  };
}
