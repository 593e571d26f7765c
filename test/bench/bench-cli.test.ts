/**
 * The bench's command line: sizes and parts as documented, and `--json` printing one
 * parseable record per line (run for real on a tiny synthetic table; it needs hyperfine).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseOptions, parseSize } from '../../bench/lib/options.js';
import type { BenchRecord, CostMeasurement } from '../../bench/lib/results.js';
import { canRun } from '../../testkit/kernel/capabilities.js';

const RUN = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('bench options', () => {
  it('reads sizes with k and m suffixes', () => {
    expect(parseSize('10k')).toBe(10_000);
    expect(parseSize('1M')).toBe(1_000_000);
    expect(parseSize('2500')).toBe(2_500);
    expect(() => parseSize('ten')).toThrow(/bad size/);
    expect(() => parseSize('10')).toThrow(/≥ 100/);
  });

  it('writes the docs by default only on a full default run, never on a quick or partial one', () => {
    const full = parseOptions([]);
    if (full === 'help') throw new Error('unexpected help');
    expect(full.docs).toBe(true);
    expect(full.sizes).toEqual([10_000, 100_000, 1_000_000]);
    const quick = parseOptions(['--quick', '--json']);
    if (quick === 'help') throw new Error('unexpected help');
    expect(quick).toMatchObject({ docs: false, json: true, sizes: [10_000], effort: 0.5 });
    const chosen = parseOptions(['--sizes', '100k,10k,10k', '--only', 'synthetic,memory']);
    if (chosen === 'help') throw new Error('unexpected help');
    expect(chosen.sizes).toEqual([10_000, 100_000]);
    expect([...chosen.parts]).toEqual(['synthetic', 'memory']);
    expect(chosen.docs).toBe(false);
    expect(() => parseOptions(['--quick', '--docs'])).toThrow(/--docs: a --quick run/);
    expect(() => parseOptions(['--only', 'memory', '--docs'])).toThrow(/--docs: .*every part/);
    const again = parseOptions(['--report', 'docs/benchmarks.jsonl']);
    if (again === 'help') throw new Error('unexpected help');
    expect(again.docs).toBe(false);
    expect(() => parseOptions(['--only', 'everything'])).toThrow(/unknown part/);
    expect(parseOptions(['--help'])).toBe('help');
  });
});

describe.skipIf(!canRun('bench --json', { commands: ['hyperfine'] }))('bench --json', () => {
  it('prints one JSON record per line: machine first, a cost per tool, end last', () => {
    const output = execFileSync(
      process.execPath,
      ['--import', TSX, RUN, '--json', '--quick', '--only', 'synthetic', '--sizes', '1k'],
      { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const records = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchRecord);
    expect(records[0]?.kind).toBe('machine');
    expect(records.at(-1)?.kind).toBe('end');
    // Each part's length is recorded, so a run says where its time goes.
    expect(records.filter((record) => record.kind === 'part-time')).toEqual([
      { kind: 'part-time', part: 'synthetic', seconds: expect.any(Number) },
    ]);
    const costs = records.filter((record): record is CostMeasurement => record.kind === 'cost');
    expect(costs.map((cost) => cost.tool).sort()).toEqual(
      ['cat', 'decoder', 'engine', 'naive', 'naive-parse', 'parser'].sort(),
    );
    for (const cost of costs) {
      expect(cost).toMatchObject({ phase: 'synthetic', size: 1_000 });
      expect(cost.sockets).toBeGreaterThanOrEqual(1_000);
      expect(cost.cpuSeconds).toBeGreaterThan(0);
      expect(cost.cpuMicrosPerSocket).toBeCloseTo((cost.cpuSeconds * 1e6) / cost.sockets, 6);
    }
    expect(costs.find((cost) => cost.tool === 'cat')?.cpuRatioToCat).toBe(1);
    // In-process runs are timed one by one, so they also give the fastest run's
    // throughput, never below the mean's.
    for (const cost of costs.filter((cost) => cost.tool !== 'cat')) {
      expect(cost.fastestGigabytesPerSecond).toBeGreaterThanOrEqual(cost.gigabytesPerSecond ?? 0);
    }
  });
});
