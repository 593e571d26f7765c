/**
 * The generated rules, dashboards and runbooks never give the two classic wrong answers:
 * tcp_tw_recycle (removed in Linux 4.12) and tcp_fin_timeout (FIN_WAIT2, not TIME_WAIT).
 * They may only appear in the runbooks' "Myths to avoid" section, each line saying it is wrong.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../mixin/config.js';
import { renderMixin } from '../../mixin/outputs.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const MYTHS = /tcp_tw_recycle|tcp_fin_timeout/;
/** Any way of setting one of them: `name=1`, `name = 30`, `sysctl -w ...name`, `echo 1 > .../name`. */
const SETTING =
  /(tcp_tw_recycle|tcp_fin_timeout)\s*=|sysctl\s+(-\w+\s+)*\S*(tcp_tw_recycle|tcp_fin_timeout)|>\s*\S*(tcp_tw_recycle|tcp_fin_timeout)/;
const MYTHS_HEADING = '## Myths to avoid';

function linesOutsideMyths(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(MYTHS_HEADING);
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  return start < 0 ? lines : [...lines.slice(0, start), ...(end < 0 ? [] : lines.slice(end))];
}

function mythLines(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(MYTHS_HEADING);
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  return start < 0 ? [] : lines.slice(start, end < 0 ? undefined : end);
}

describe('advice in the generated files and runbooks', () => {
  const runbooks = readFileSync(join(repoRoot, 'docs/runbooks.md'), 'utf8');

  it('rules and dashboards never mention tcp_tw_recycle or tcp_fin_timeout', () => {
    for (const [path, content] of renderMixin(defaultConfig)) {
      expect(MYTHS.test(content), path).toBe(false);
    }
  });

  it('runbooks mention them only in "Myths to avoid", each line saying it does not help', () => {
    expect(linesOutsideMyths(runbooks).filter((line) => MYTHS.test(line))).toEqual([]);
    const myths = mythLines(runbooks).filter((line) => MYTHS.test(line));
    expect(myths.length).toBeGreaterThanOrEqual(2);
    for (const line of myths) expect(line).toMatch(/\b(not|removed|never)\b/);
  });

  it('no line anywhere tells how to set them', () => {
    const everything = [runbooks, ...renderMixin(defaultConfig).values()].join('\n');
    expect(everything.split('\n').filter((line) => SETTING.test(line))).toEqual([]);
  });

  it('the detector itself catches a recommendation', () => {
    expect(SETTING.test('sysctl -w net.ipv4.tcp_tw_recycle=1')).toBe(true);
    expect(SETTING.test('net.ipv4.tcp_fin_timeout = 15')).toBe(true);
    expect(SETTING.test('echo 1 > /proc/sys/net/ipv4/tcp_tw_recycle')).toBe(true);
    const text =
      '## A\nset tcp_tw_recycle\n## Myths to avoid\ntcp_fin_timeout is not it\n## B\ntcp_fin_timeout';
    expect(linesOutsideMyths(text).filter((line) => MYTHS.test(line))).toEqual([
      'set tcp_tw_recycle',
      'tcp_fin_timeout',
    ]);
    expect(mythLines(text).filter((line) => MYTHS.test(line))).toEqual([
      'tcp_fin_timeout is not it',
    ]);
  });

  it('tcp_tw_reuse is only advised for outgoing connections with timestamps on', () => {
    const advice = runbooks.split('\n\n').filter((paragraph) => /tcp_tw_reuse=1/.test(paragraph));
    expect(advice.length).toBeGreaterThan(0);
    expect(advice.some((p) => /outgoing/.test(p) && /tcp_timestamps=1/.test(p))).toBe(true);
  });
});
