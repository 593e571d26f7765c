/**
 * The README is part of the product: its flag table is generated, and every metric the
 * exporter serves and every npm script it tells people to run exist; it stays a front door
 * that links each topic's page in docs/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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

  it('is a front door: at most 350 lines, every topic linked to its page in docs/', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(350);
    const pages = readdirSync('docs').filter((name) => name.endsWith('.md'));
    expect(pages.length).toBeGreaterThan(5);
    for (const page of pages) expect(readme, page).toContain(`](docs/${page})`);
  });

  it('links only to files that exist', () => {
    const targets = [...readme.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)]
      .map((match) => match[1] as string)
      .filter((target) => !/^[a-z]+:/.test(target));
    expect(targets.length).toBeGreaterThan(5);
    for (const target of targets) expect(existsSync(target), target).toBe(true);
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
