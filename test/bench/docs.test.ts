/**
 * docs/benchmarks.md is generated whole from the records committed beside it
 * (docs/benchmarks.jsonl), which are one whole run, and so are the sections of other pages
 * between bench markers: the pages and the records cannot drift apart, and a quick,
 * unfinished or modified run cannot become a page.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BenchRecord, MachineInfo } from '../../bench/lib/results.js';
import {
  benchmarksPage,
  DOCS,
  PAGE_PATH,
  partsNotRun,
  RESULTS_PATH,
  readRecords,
  wholeRunProblems,
} from '../../bench/report/docs.js';
import { SECTION_PAGES, SECTIONS, withSections } from '../../bench/report/sections.js';

const RECORDS = readRecords(RESULTS_PATH);
const MACHINE = RECORDS.find((record): record is MachineInfo => record.kind === 'machine');

/** The committed records of other kinds than `kinds` (a test's own stand in for them). */
function recordsWithout(...kinds: readonly BenchRecord['kind'][]): BenchRecord[] {
  return RECORDS.filter((record) => !kinds.includes(record.kind));
}

/**
 * The committed records with the machine record changed, less those of `kinds`: the test
 * adds its own, and the committed run's own of that part would render beside them.
 */
function withMachine(
  change: (machine: MachineInfo) => MachineInfo,
  ...kinds: readonly BenchRecord['kind'][]
): BenchRecord[] {
  return recordsWithout(...kinds).map((record) =>
    record.kind === 'machine' ? change(record) : record,
  );
}

describe('docs/benchmarks.md', () => {
  it('is the page its committed records give, byte for byte', () => {
    // On failure: npm run bench -- --report docs/benchmarks.jsonl --docs
    expect(readFileSync(PAGE_PATH, 'utf8')).toBe(benchmarksPage(RECORDS));
  });

  it('comes from one whole run, whose commit and machine it names at the top', () => {
    expect(wholeRunProblems(RECORDS)).toEqual([]);
    const top = readFileSync(PAGE_PATH, 'utf8').split('## Reading')[0] ?? '';
    expect(top).toContain(`at commit\n\`${MACHINE?.commit}\``);
    expect(top).toContain('[Machine](#machine)');
    // Parts added after the run are named as not measured, never silently absent.
    for (const part of partsNotRun(RECORDS)) expect(top).toContain(`\`${part}\``);
  });
});

/** What a page holds between a section's markers. */
function sectionBody(page: string, name: string): string {
  const after = page.split(`<!-- bench:${name}:start`)[1] ?? '';
  return after.slice(after.indexOf('-->') + 3, after.indexOf(`<!-- bench:${name}:end -->`));
}

describe('the generated sections of other pages', () => {
  it.each(SECTION_PAGES)('%s holds the sections its committed records give', (page) => {
    // On failure: npm run bench -- --report docs/benchmarks.jsonl --docs
    const text = readFileSync(`${DOCS}${page}`, 'utf8');
    expect(text).toBe(withSections(page, text, RECORDS));
  });

  it('name the run they come from, or say their part is not measured yet', () => {
    for (const section of SECTIONS) {
      const text = readFileSync(`${DOCS}${section.page}`, 'utf8');
      const body = sectionBody(text, section.name);
      expect(body).toContain(`\`${MACHINE?.commit}\``);
      expect(body.includes('Not measured yet')).toBe(partsNotRun(RECORDS).includes(section.part));
    }
  });

  it('are rewritten from the records: a figure changed in the records changes the page', () => {
    const run = withMachine(
      (machine) => ({
        ...machine,
        run: { ...machine.run, parts: [...machine.run.parts, 'top-k'] },
      }),
      'top-k',
    );
    const topK = (medianMs: number): BenchRecord => ({
      kind: 'top-k',
      k: 10_000,
      destinations: 199_219,
      kept: 10_000,
      runs: 5,
      medianMs,
    });
    const page = readFileSync(`${DOCS}reliability.md`, 'utf8');
    const first = withSections('reliability.md', page, [...run, topK(256.4)]);
    expect(sectionBody(first, 'top-k')).toContain('| 10,000 | 199,219 | 10,000 | 5 | 256 ms |');
    expect(sectionBody(first, 'top-k')).not.toContain('Not measured yet');
    const second = withSections('reliability.md', first, [...run, topK(73.2)]);
    expect(sectionBody(second, 'top-k')).toContain('| 10,000 | 199,219 | 10,000 | 5 | 73 ms |');
    expect(second).not.toContain('256 ms');
    // Outside the markers the prose stays as written.
    expect(second.split('<!-- bench:top-k:start')[0]).toBe(page.split('<!-- bench:top-k:start')[0]);
  });

  it('show the tracer, sockstat-fast and nsenter figures of the records, and only those', () => {
    const run = withMachine(
      (machine) => ({
        ...machine,
        run: {
          ...machine.run,
          parts: [...machine.run.parts, 'tracer', 'sockstat-fast', 'nsenter'],
        },
      }),
      'tracer',
      'sockstat-fast',
      'nsenter',
    );
    const measured = (scale: number): BenchRecord[] => [
      ...run,
      {
        kind: 'tracer',
        loop: '`getppid()`',
        calls: 500_000,
        offNs: [300, 500, 400],
        onNs: [420 * scale, 440, 410],
      },
      { kind: 'sockstat-fast', namespaces: 0, readings: 400, msPerRound: [0.05, 0.04] },
      { kind: 'sockstat-fast', namespaces: 100, readings: 400, msPerRound: [5 * scale, 6 * scale] },
      {
        kind: 'nsenter',
        firstMs: [30, 40 * scale, 50],
        keptMs: [12, 10, 14],
        namespaces: 20,
        concurrency: 4,
        roundMs: 280 * scale,
        idleDelay: { p50Ms: 1.1, p99Ms: 3 },
        roundDelay: { p50Ms: 1.2, p99Ms: 8 },
        spawnMs: [50, 60],
        spawnBlockedMs: [20, 35],
      },
    ];
    const connectErrors = readFileSync(`${DOCS}connect-errors.md`, 'utf8');
    const sysctls = readFileSync(`${DOCS}namespace-sysctls.md`, 'utf8');
    const once = (scale: number) => ({
      connectErrors: withSections('connect-errors.md', connectErrors, measured(scale)),
      sysctls: withSections('namespace-sysctls.md', sysctls, measured(scale)),
    });
    const first = once(1);
    // Medians of the rounds with their range, and the change of the medians (420 / 400).
    expect(sectionBody(first.connectErrors, 'tracer')).toContain(
      '| `getppid()` | 500,000 | 400 ns (300 ns-500 ns) | 420 ns (410 ns-440 ns) | 5.0 % |',
    );
    expect(sectionBody(first.connectErrors, 'sockstat-fast')).toContain(
      '| 100 namespaces, through `/proc/<pid>/net` | 5.5 ms (5.0 ms-6.0 ms) | 2.2 % | 122.2× |',
    );
    expect(sectionBody(first.sysctls, 'nsenter')).toContain(
      '| 20 namespaces through the cache, 4 at once | 280 ms, 14 ms per namespace |',
    );
    expect(sectionBody(first.sysctls, 'nsenter')).toContain(
      '40 ms median, 30 ms at best, 50 ms at worst (3 reads)',
    );
    for (const [page, body] of [
      ['connect-errors.md', sectionBody(first.connectErrors, 'tracer')],
      ['namespace-sysctls.md', sectionBody(first.sysctls, 'nsenter')],
    ] as const) {
      expect(body, page).not.toContain('Not measured yet');
    }
    // A page whose figures are not its records' is rewritten: the check above fails on it.
    const second = once(2);
    expect(second.connectErrors).not.toBe(first.connectErrors);
    expect(withSections('connect-errors.md', first.connectErrors, measured(2))).toBe(
      second.connectErrors,
    );
    expect(sectionBody(second.connectErrors, 'sockstat-fast')).toContain(
      '11.0 ms (10.0 ms-12.0 ms)',
    );
    expect(sectionBody(second.sysctls, 'nsenter')).toContain('560 ms, 28 ms per namespace');
    expect(second.sysctls).not.toContain('280 ms');
  });

  it('judge the conntrack sample against the 1.2× cat target on the real table only', () => {
    const run = withMachine(
      (machine) => ({
        ...machine,
        run: { ...machine.run, parts: [...machine.run.parts, 'conntrack'] },
      }),
      'conntrack',
    );
    const measured = (table: 'synthetic' | 'real', engine: number): BenchRecord => ({
      kind: 'conntrack',
      table,
      build: 'this tree',
      entries: 250_000,
      bytes: 40 * 2 ** 20,
      natted: 250_000,
      runs: 12,
      engineCpuSeconds: engine,
      engineSystemSeconds: 0.4,
      engineWallSeconds: 0.9,
      catCpuSeconds: 0.5,
      cpuRatioToCat: engine / 0.5,
      fillSeconds: 11,
    });
    const page = readFileSync(`${DOCS}conntrack.md`, 'utf8');
    const met = sectionBody(
      withSections('conntrack.md', page, [...run, measured('synthetic', 2), measured('real', 0.6)]),
      'conntrack',
    );
    expect(met).toContain('| synthetic | this tree | 250000 | 40.0 MiB | 250000 | 2000.0 |');
    expect(met).toContain('| 4.00× |');
    expect(met).toContain('| 1.20× (met) |');
    expect(met).toContain('filling it took 11 s');
    const missed = withSections('conntrack.md', page, [...run, measured('real', 0.65)]);
    expect(sectionBody(missed, 'conntrack')).toContain('| 1.30× (missed) |');
  });

  it('say why a part of the run measured nothing', () => {
    const run = withMachine(
      (machine) => ({
        ...machine,
        run: { ...machine.run, parts: [...machine.run.parts, 'soak'] },
      }),
      'soak',
    );
    const page = readFileSync(`${DOCS}reliability.md`, 'utf8');
    const failed: BenchRecord = { kind: 'note', phase: 'soak', text: 'failed: no figures' };
    const text = withSections('reliability.md', page, [...run, failed]);
    expect(sectionBody(text, 'soak')).toContain('Note from this run: failed: no figures');
    expect(sectionBody(text, 'top-k')).not.toContain('Note from this run');
  });

  it('refuse a page whose markers are missing', () => {
    expect(() => withSections('reliability.md', '# Reliability\n', RECORDS)).toThrow(
      'docs/reliability.md has no markers for the top-k section',
    );
  });
});

describe("the run's length", () => {
  it('is shown by part on the page, a part timed in two steps summed', () => {
    const untimed = recordsWithout('part-time');
    const timed: BenchRecord[] = [
      ...untimed,
      { kind: 'part-time', part: 'synthetic', seconds: 252 },
      { kind: 'part-time', part: 'daemon', seconds: 30 },
      { kind: 'part-time', part: 'daemon', seconds: 60 },
    ];
    expect(benchmarksPage(timed)).toContain('- by part: synthetic 4.2 min, daemon 1.5 min\n');
    expect(benchmarksPage(untimed)).not.toContain('by part:');
  });
});

describe('the records a page may come from', () => {
  it('are never those of a quick run, several runs, an unfinished or a modified one', () => {
    const quick = withMachine((machine) => ({ ...machine, run: { ...machine.run, quick: true } }));
    expect(wholeRunProblems(quick)).toEqual(['a --quick run']);
    const partial = withMachine((machine) => ({
      ...machine,
      run: { ...machine.run, parts: machine.run.parts.filter((part) => part !== 'cold-start') },
    }));
    expect(partsNotRun(partial)).toEqual(['cold-start', ...partsNotRun(RECORDS)]);
    expect(benchmarksPage(partial)).toContain('This run predates the parts `cold-start`');
    const modified = withMachine((machine) => ({ ...machine, commit: 'abc1234 (src modified)' }));
    expect(wholeRunProblems(modified)).toEqual([
      'src/ differed from commit abc1234 (src modified)',
    ]);
    expect(wholeRunProblems([...RECORDS, ...RECORDS])).toEqual(['2 runs in the records, not one']);
    expect(wholeRunProblems(RECORDS.filter((record) => record.kind !== 'end'))).toEqual([
      'the run did not finish',
    ]);
  });
});
