import { describe, expect, it } from 'vitest';
import { LineSplitter, parseTraceLine } from '../../src/sources/trace-pipe.js';

describe('parseTraceLine', () => {
  it.each([
    [
      '         python3-10082   [000] ..... 11034.357495: sys_bind -> 0xffffffffffffff9e',
      { syscall: 'bind', tid: 10082, ret: -98 },
    ],
    [
      ' curl-7-1234 [001] d..1. 5.000001: sys_connect -> 0xffffffffffffff9d',
      { syscall: 'connect', tid: 1234, ret: -99 },
    ],
    // A comm with spaces, and the record-tgid column some setups turn on.
    [
      ' Web Content-77 (     70) [003] ...1. 12.5: sys_connect -> 0x0',
      { syscall: 'connect', tid: 77, ret: 0 },
    ],
  ])('reads %j', (line, exit) => {
    expect(parseTraceLine(line)).toEqual({ kind: 'exit', exit });
  });

  it('reads the lines that say the ring buffer lost events', () => {
    expect(parseTraceLine('CPU:1 [LOST 42 EVENTS]')).toEqual({ kind: 'lost', count: 42 });
  });

  it.each(['', '# tracer: nop', 'python3-1 [000] ..... 1.0: sys_enter_bind(fd: 3)'])(
    'ignores %j',
    (line) => {
      expect(parseTraceLine(line)).toBeUndefined();
    },
  );
});

describe('LineSplitter', () => {
  it('carries a line cut by a read over to the next chunk', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('a-1 [000] ..... 1.0: sys_bind -> 0x')).toEqual([]);
    const [line] = splitter.push('ffffffffffffff9e\nb-2 [000]');
    expect(parseTraceLine(line ?? '')).toEqual({
      kind: 'exit',
      exit: { syscall: 'bind', tid: 1, ret: -98 },
    });
    expect(splitter.push(' ..... 2.0: sys_connect -> 0xffffffffffffff9d\n')).toHaveLength(1);
  });
});
