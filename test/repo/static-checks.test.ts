/**
 * The repository's own gates, run as tests so CI counts them: the code type-checks
 * under the strict settings and Biome finds nothing to lint or format.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function run(command: string, args: readonly string[]): { status: number; output: string } {
  try {
    const output = execFileSync(command, args, {
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 240_000,
    });
    return { status: 0, output };
  } catch (error) {
    const failure = error as { status?: number; stdout?: string; stderr?: string };
    return {
      status: failure.status ?? 1,
      output: `${failure.stdout ?? ''}${failure.stderr ?? ''}`,
    };
  }
}

describe('repository gates', () => {
  it('type-checks with the strict compiler settings', { timeout: 240_000 }, () => {
    const result = run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('passes Biome lint and format checks', { timeout: 120_000 }, () => {
    const result = run('npx', ['biome', 'check', '--error-on-warnings', '.']);
    expect(result.status, result.output).toBe(0);
  });
});
