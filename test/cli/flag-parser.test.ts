import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FlagTable,
  formatDuration,
  formatListenAddress,
  parseDuration,
  parseFlags,
  parseListenAddress,
} from '../../src/cli/flag-parser.js';
import { formatFlagTableMarkdown, formatHelp } from '../../src/cli/help.js';

const table = {
  listen: { name: 'web.listen-address', kind: 'listenAddress', default: ':10120', help: 'Listen.' },
  interval: {
    name: 'sample.interval',
    kind: 'duration',
    default: 5000,
    max: 3_600_000,
    maxReason: 'why',
    help: 'Interval.',
  },
  limit: {
    name: 'limit',
    kind: 'positiveInteger',
    default: 64,
    max: 100,
    maxReason: 'series',
    help: 'Limit.',
  },
  level: {
    name: 'log.level',
    kind: 'enum',
    choices: ['debug', 'info', 'warn', 'error'],
    default: 'info',
    help: 'Level.',
  },
  sockets: { name: 'collector.sockets', kind: 'boolean', default: true, help: 'Sockets.' },
  once: { name: 'once', kind: 'boolean', default: false, help: 'Once.' },
  help: { name: 'help', short: 'h', kind: 'boolean', default: false, help: 'Help.' },
  root: {
    name: 'path.procfs',
    kind: 'string',
    default: '/proc',
    help: 'Root.',
    placeholder: 'DIR',
  },
} as const satisfies FlagTable;

function parsed(argv: string[]) {
  const result = parseFlags(table, argv);
  if (!result.ok) throw result.error;
  return result.values;
}

function failure(argv: string[]) {
  const result = parseFlags(table, argv);
  if (result.ok) throw new Error(`expected ${argv.join(' ')} to fail`);
  return result.error;
}

describe('parseFlags', () => {
  it('returns the defaults for an empty command line', () => {
    expect(parsed([])).toEqual({
      listen: { host: undefined, port: 10120 },
      interval: 5000,
      limit: 64,
      level: 'info',
      sockets: true,
      once: false,
      help: false,
      root: '/proc',
    });
  });

  it('reads --flag=value and --flag value alike', () => {
    const values = parsed(['--sample.interval=1m30s', '--limit', '7', '--path.procfs', '/x']);
    expect(values.interval).toBe(90_000);
    expect(values.limit).toBe(7);
    expect(values.root).toBe('/x');
  });

  it('reads booleans as --x, --no-x and --x=false; the last occurrence wins', () => {
    expect(parsed(['--no-collector.sockets']).sockets).toBe(false);
    expect(parsed(['--no-collector.sockets', '--collector.sockets']).sockets).toBe(true);
    expect(parsed(['--collector.sockets=false']).sockets).toBe(false);
    expect(parsed(['--once']).once).toBe(true);
    expect(parsed(['-h']).help).toBe(true);
  });

  it('reads every listen address form', () => {
    expect(parsed(['--web.listen-address', '0.0.0.0:10120']).listen).toEqual({
      host: '0.0.0.0',
      port: 10120,
    });
    expect(parsed(['--web.listen-address=[::]:10120']).listen).toEqual({ host: '::', port: 10120 });
    expect(parsed(['--web.listen-address=127.0.0.1:0']).listen).toEqual({
      host: '127.0.0.1',
      port: 0,
    });
    expect(parsed(['--web.listen-address=localhost:80']).listen).toEqual({
      host: 'localhost',
      port: 80,
    });
  });

  it('names the flag and the expected form for a bad value', () => {
    expect(failure(['--sample.interval', 'abc']).message).toBe(
      '--sample.interval: expected a duration like 500ms, 5s or 1m, got "abc"',
    );
    expect(failure(['--sample.interval=0s']).message).toContain('greater than zero');
    expect(failure(['--limit=0']).message).toBe('--limit: expected a positive integer, got "0"');
    expect(failure(['--limit=1.5']).flag).toBe('--limit');
    expect(failure(['--log.level=loud']).message).toBe(
      '--log.level: expected one of debug, info, warn, error, got "loud"',
    );
    expect(failure(['--web.listen-address=10120']).message).toMatch(
      /^--web\.listen-address: expected an address like :10120/,
    );
    expect(failure(['--web.listen-address=:65536']).flag).toBe('--web.listen-address');
    expect(failure(['--collector.sockets=maybe']).message).toBe(
      '--collector.sockets: expected true or false, got "maybe"',
    );
  });

  it('reports a missing value instead of swallowing the next flag', () => {
    expect(failure(['--limit']).message).toBe('--limit: expected a positive integer, got nothing');
    expect(failure(['--limit', '--once']).message).toBe(
      '--limit: expected a positive integer, got nothing',
    );
  });

  it('rejects unknown flags, --no- on a non-boolean and stray arguments', () => {
    expect(failure(['--bogus']).message).toBe('unknown flag --bogus');
    expect(failure(['--no-limit']).flag).toBe('--no-limit');
    expect(failure(['-x']).message).toBe('unknown flag -x');
    expect(failure(['extra']).message).toBe('unexpected argument "extra"');
    expect(failure(['extra']).flag).toBeUndefined();
  });

  it('asks for a flag name when -- has none, instead of calling -- unknown', () => {
    expect(failure(['--=x']).message).toBe('expected a flag name after --, got "--=x"');
    expect(failure(['--']).message).toBe('expected a flag name after --, got "--"');
  });

  it('quotes at most 64 characters of what it got, and says how long it was', () => {
    const long = 'x'.repeat(10_240);
    const cut = `"${'x'.repeat(64)}"... (10240 characters)`;
    expect(failure([`--log.level=${long}`]).message).toBe(
      `--log.level: expected one of debug, info, warn, error, got ${cut}`,
    );
    expect(failure([`--${long}`]).message).toBe(
      `unknown flag "--${'x'.repeat(62)}"... (10242 characters)`,
    );
    expect(failure([long]).message).toBe(`unexpected argument ${cut}`);
    // 64 characters are quoted whole.
    expect(failure([`--log.level=${'y'.repeat(64)}`]).message).toMatch(/got "y{64}"$/);
  });
});

describe('durations', () => {
  it('reads Prometheus-style durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('1h1m1s1ms')).toBe(3_661_001);
  });

  it('rejects units out of order, repeated, unknown or missing', () => {
    for (const bad of ['', '5', 's', '1s1m', '1s1s', '5d', '1.5s', '-1s', ' 5s', '5s ']) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });

  it('formats every duration so that it reads back the same', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});

describe('listen addresses', () => {
  it('rejects malformed hosts and ports', () => {
    for (const bad of ['', ':', 'host', ':-1', ':1x', '[::1:80', '::1:80', '[host]:80', 'a b:1']) {
      expect(parseListenAddress(bad), bad).toBeUndefined();
    }
  });

  it('formats addresses so that they read back the same', () => {
    for (const text of [':10120', '0.0.0.0:1', '[::]:10120', '[fd00::1]:0', 'localhost:80']) {
      const address = parseListenAddress(text);
      expect(address).toBeDefined();
      if (address) expect(formatListenAddress(address)).toBe(text);
    }
  });
});

describe('help and markdown', () => {
  it('refuses a number above its maximum, naming the maximum and why', () => {
    const over = parseFlags(table, ['--limit=101', '--sample.interval=61m']);
    expect(over.ok).toBe(false);
    if (!over.ok) {
      expect(over.error.message).toBe(
        '--limit: expected a positive integer, at most 100 (series), got "101"',
      );
    }
    const interval = parseFlags(table, ['--sample.interval=61m']);
    if (!interval.ok) {
      expect(interval.error.message).toBe(
        '--sample.interval: expected a duration like 500ms, 5s or 1m, at most 1h (why), got "61m"',
      );
    }
    expect(interval.ok).toBe(false);
    expect(parseFlags(table, ['--limit=100', '--sample.interval=1h']).ok).toBe(true);
  });

  it('lists every flag with its default in --help', () => {
    const help = formatHelp(table, { usage: ['prog [<flags>]'], summary: 'Does things.' });
    expect(help.startsWith('usage: prog [<flags>]\n\nDoes things.\n')).toBe(true);
    for (const spec of Object.values(table)) expect(help).toContain(spec.name);
    expect(help).toMatch(
      /--sample\.interval=DURATION\s+Interval\. At most 1h \(why\)\. \(default: 5s\)/,
    );
    expect(help).toMatch(/--\[no-\]collector\.sockets\s+Sockets\. \(default: true\)/);
    expect(help).toMatch(/-h, --help\s+Help\.\n/);
  });

  it('writes one markdown row per flag, escaping pipes', () => {
    const markdown = formatFlagTableMarkdown(table);
    const rows = markdown.trimEnd().split('\n');
    expect(rows).toHaveLength(2 + Object.keys(table).length);
    expect(markdown).toContain('| `--log.level=debug\\|info\\|warn\\|error` | `info` | Level. |');
    expect(markdown).toContain('| `--once` |  | Once. |');
  });
});
