/**
 * docs/runbooks.md and docs/alerts.md's alert table match the generated rules: one runbook
 * section per alert with its severities, the doctor command, the steps an on-call engineer
 * needs and a link to a dashboard panel that shows what the alert measures.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertSeverities } from '../../mixin/alerts.js';
import { defaultConfig } from '../../mixin/config.js';
import { DASHBOARD_PATHS } from '../../mixin/outputs.js';
import { recordingRules } from '../../mixin/recording.js';
import { metricNames, recordedNames } from '../../testkit/mixin/metric-contract.js';
import { readAlertingRules } from '../../testkit/mixin/promtool-cases.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const runbooks = readFileSync(join(repoRoot, 'docs/runbooks.md'), 'utf8');
const alertTable = readFileSync(join(repoRoot, 'docs/alerts.md'), 'utf8');
const severities = alertSeverities(defaultConfig);
const rules = readAlertingRules();

interface Panel {
  readonly id: number;
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}
const boards = new Map(
  Object.values(DASHBOARD_PATHS).map((path) => {
    const board = JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as {
      uid: string;
      title: string;
      panels: Panel[];
    };
    return [board.uid, board] as const;
  }),
);

function sections(markdown: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const part of markdown.split(/^## /m).slice(1)) {
    const newline = part.indexOf('\n');
    result.set(part.slice(0, newline).trim(), part.slice(newline + 1));
  }
  return result;
}

/** Metrics an expression reads, recorded series replaced by what they are made of. */
function readsOf(expr: string): Set<string> {
  const names = new Set([...metricNames(expr), ...recordedNames(expr)]);
  if (/\bup\{/.test(expr)) names.add('up');
  for (const rule of recordingRules(defaultConfig)) {
    if (names.has(rule.record)) for (const metric of metricNames(rule.expr)) names.add(metric);
  }
  return names;
}

describe('docs/runbooks.md', () => {
  const bySection = sections(runbooks);

  it('has one section per alert and none for alerts that do not exist', () => {
    const alertSections = [...bySection.keys()].filter((title) => title.startsWith('TcpState'));
    expect(alertSections.sort()).toEqual([...severities.keys()].sort());
  });

  for (const [alert, levels] of severities) {
    it(`${alert}: severity, meaning, doctor, panel, stop the bleeding, fix`, () => {
      const text = bySection.get(alert) ?? '';
      const severityLine = /\*\*Severity\.\*\* ([^\n]+)/.exec(text)?.[1] ?? '';
      const named = new Set(severityLine.match(/\b(warning|critical|info)\b/g));
      expect(named, `${alert}: ${severityLine}`).toEqual(levels);
      for (const part of ['**Meaning.**', '**Confirm.**', '**Stop the bleeding.**', '**Fix.**']) {
        expect(text, `${alert}: ${part}`).toContain(part);
      }
      expect(text).toContain('tcpstate-exporter doctor');

      const link =
        /\*\*Panel\.\*\* \*([^*]+)\* → \*([^*]+)\* \(`\/d\/([a-z-]+)\?viewPanel=(\d+)`\)/.exec(
          text,
        );
      expect(link, `${alert}: panel link`).not.toBeNull();
      const [, boardTitle, panelTitle, uid, id] = link ?? [];
      const board = boards.get(uid ?? '');
      expect(board?.title).toBe(boardTitle);
      const panel = board?.panels.find((candidate) => candidate.id === Number(id));
      expect(panel?.title, `${alert}: panel ${id}`).toBe(panelTitle);
      // The panel shows what the alert measures.
      const alertReads = new Set(
        rules.filter((rule) => rule.alert === alert).flatMap((rule) => [...readsOf(rule.expr)]),
      );
      const panelReads = readsOf((panel?.targets ?? []).map((target) => target.expr).join('\n'));
      expect(
        [...alertReads].filter((name) => panelReads.has(name)).length,
        `${alert}: ${panelTitle} reads none of ${[...alertReads].join(', ')}`,
      ).toBeGreaterThan(0);
    });
  }
});

describe("docs/alerts.md's alert table", () => {
  it('lists every alert once with its severities', () => {
    const rows = alertTable
      .split('\n')
      .filter((line) => /^\| `TcpState/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const listed = new Map<string, Set<string>>();
    for (const [, names = '', severity = ''] of rows) {
      for (const name of names.match(/TcpState\w+/g) ?? []) {
        expect(listed.has(name), `${name} listed twice`).toBe(false);
        listed.set(name, new Set(severity.match(/\b(warning|critical|info)\b/g)));
      }
    }
    expect(listed).toEqual(severities);
  });
});
