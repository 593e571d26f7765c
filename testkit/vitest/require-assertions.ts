/**
 * Setup file of every test file (vitest.config.ts): a test that makes no assertion fails,
 * so a loop over an empty list or a skipped branch can never pass for a checked behaviour.
 * Where "nothing" is the answer, a test says so: `expect(found).toEqual([])`.
 */
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});
