import { describe, expect, it } from 'vitest';
import { parsePortRange, parseReservedPorts } from '../../src/sources/sysctl.js';

describe('ip_local_reserved_ports', () => {
  it.each([
    ['\n', []],
    ['', []],
    ['9000\n', [[9000, 9000]]],
    [
      '1000-1010,2000\n',
      [
        [1000, 1010],
        [2000, 2000],
      ],
    ],
    [
      '40000-40010,45000,50000-50001\n',
      [
        [40000, 40010],
        [45000, 45000],
        [50000, 50001],
      ],
    ],
  ])('%j parses', (text, expected) => {
    expect(parseReservedPorts(text)).toEqual(expected);
  });

  it.each(['1000-', 'abc', '1000-999', '70000', '1-2-3', '1000,,2000'])(
    '%j is rejected with the path',
    (text) => {
      expect(() => parseReservedPorts(text, '/p/ip_local_reserved_ports')).toThrow(
        /\/p\/ip_local_reserved_ports/,
      );
    },
  );
});

describe('ip_local_port_range', () => {
  it('parses the tab-separated pair', () => {
    expect(parsePortRange('32768\t60999\n')).toEqual({ low: 32768, high: 60999 });
  });
  it.each(['32768\n', '60999 32768', 'a b', '1 2 3'])('%j is rejected', (text) => {
    expect(() => parsePortRange(text)).toThrow();
  });
});
