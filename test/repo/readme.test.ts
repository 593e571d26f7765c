/**
 * The README is part of the product: its flag table is generated, and every metric the
 * exporter serves, every alert it ships and every npm script it tells people to run exist.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { withFlagTable } from '../../scripts/readme-flags.js';

const readme = readFileSync('README.md', 'utf8');

describe('README', () => {
  it('has the flag table the flag definitions generate', () => {
    expect(withFlagTable(readme)).toBe(readme);
  });

  it('documents every tcpstate_ metric family of the golden exposition', () => {
    const families = [
      ...readFileSync('test/golden/once.prom', 'utf8').matchAll(/^# TYPE (tcpstate_\w+) /gm),
    ].map((match) => match[1] as string);
    expect(families.length).toBeGreaterThan(20);
    for (const family of families) expect(readme, family).toContain(`\`${family}\``);
  });

  it('lists every shipped alert', () => {
    const rules = parse(readFileSync('deploy/prometheus/tcpstate-rules.yml', 'utf8')) as {
      groups: { rules: { alert?: string }[] }[];
    };
    const alerts = rules.groups.flatMap((group) => group.rules.flatMap((rule) => rule.alert ?? []));
    expect(alerts.length).toBeGreaterThan(5);
    for (const alert of alerts) expect(readme, alert).toContain(alert);
  });

  it('only mentions npm scripts that exist', () => {
    const scripts = (
      JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    const mentioned = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1] as string);
    expect(mentioned.length).toBeGreaterThan(0);
    for (const script of mentioned) expect(scripts, script).toHaveProperty([script]);
  });
});
