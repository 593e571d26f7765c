import { describe, expect, it } from 'vitest';
import { parseExporterArgs } from '../../src/config/flags.js';

function parse(argv: string[]) {
  const parsed = parseExporterArgs(argv);
  if (!parsed.ok) return parsed.message;
  if (!('config' in parsed.command)) throw new Error('no config');
  return parsed.command.config;
}

describe('web flags', () => {
  it('defaults to 40 concurrent requests and no web config', () => {
    expect(parse([])).toMatchObject({ maxRequests: 40, webConfigFile: undefined });
  });

  it('takes 0 as no limit, and a file path', () => {
    expect(parse(['--web.max-requests=0', '--web.config.file', 'web.yml'])).toMatchObject({
      maxRequests: 0,
      webConfigFile: 'web.yml',
    });
  });

  it.each([['-1'], ['1.5'], ['ten'], ['']])(
    'rejects --web.max-requests=%s naming the flag',
    (value) => {
      expect(parse([`--web.max-requests=${value}`])).toContain(
        '--web.max-requests: expected a whole number, 0 for no limit',
      );
    },
  );

  it('keeps the telemetry path off the live page paths', () => {
    expect(parse(['--web.telemetry-path=/static/metrics'])).toContain('outside /static/ and /api/');
    expect(parse(['--web.telemetry-path=/api/page'])).toContain('outside /static/ and /api/');
  });
});
