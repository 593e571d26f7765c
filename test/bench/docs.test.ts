/**
 * docs/benchmarks.md is generated whole from the records committed beside it
 * (docs/benchmarks.jsonl), which are one whole run: the page and the records cannot drift
 * apart, and a quick or partial run cannot become the page.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BenchRecord, MachineInfo } from '../../bench/lib/results.js';
import {
  benchmarksPage,
  PAGE_PATH,
  RESULTS_PATH,
  readRecords,
  wholeRunProblems,
} from '../../bench/report/docs.js';

const RECORDS = readRecords(RESULTS_PATH);
const MACHINE = RECORDS.find((record): record is MachineInfo => record.kind === 'machine');

/** The committed records with the machine record changed. */
function withMachine(change: (machine: MachineInfo) => MachineInfo): BenchRecord[] {
  return RECORDS.map((record) => (record.kind === 'machine' ? change(record) : record));
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
  });
});

describe('the records a page may come from', () => {
  it('are never those of a quick run, a partial run, several runs or an unfinished one', () => {
    const quick = withMachine((machine) => ({ ...machine, run: { ...machine.run, quick: true } }));
    expect(wholeRunProblems(quick)).toEqual(['a --quick run']);
    const partial = withMachine((machine) => ({
      ...machine,
      run: { ...machine.run, parts: machine.run.parts.filter((part) => part !== 'cold-start') },
    }));
    expect(wholeRunProblems(partial)).toEqual(['parts not run: cold-start']);
    expect(wholeRunProblems([...RECORDS, ...RECORDS])).toEqual(['2 runs in the records, not one']);
    expect(wholeRunProblems(RECORDS.filter((record) => record.kind !== 'end'))).toEqual([
      'the run did not finish',
    ]);
  });
});
