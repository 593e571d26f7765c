import { describe, expect, it } from 'vitest';
import {
  MAX_CONNECTIONS,
  maxConnections,
  openFileLimit,
  RESERVED_FDS,
} from '../../src/server/limits.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            512                  4096                 files
`;

describe('connection cap', () => {
  it('reads the soft open-file limit', () => {
    expect(openFileLimit(LIMITS)).toBe(512);
    expect(openFileLimit(LIMITS.replace('512 ', 'unlimited '))).toBeUndefined();
    expect(openFileLimit('')).toBeUndefined();
    expect(openFileLimit()).toBeGreaterThan(0);
  });

  it('keeps RESERVED_FDS free under the limit, and caps at MAX_CONNECTIONS', () => {
    expect(maxConnections(512)).toBe(MAX_CONNECTIONS);
    expect(maxConnections(200)).toBe(200 - RESERVED_FDS);
    expect(maxConnections(RESERVED_FDS)).toBe(1);
    expect(maxConnections(undefined)).toBe(MAX_CONNECTIONS);
  });
});
