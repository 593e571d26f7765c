import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { BasicAuthVerifier, parseBasicAuth } from '../../src/server/basic-auth.js';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('parseBasicAuth', () => {
  it('splits at the first colon, so passwords may hold colons', () => {
    expect(parseBasicAuth(basic('alice:a:b'))).toEqual({ user: 'alice', password: 'a:b' });
    expect(parseBasicAuth(basic(':'))).toEqual({ user: '', password: '' });
  });

  it('ignores other schemes and malformed values', () => {
    expect(parseBasicAuth(undefined)).toBeUndefined();
    expect(parseBasicAuth('Bearer abc')).toBeUndefined();
    expect(parseBasicAuth(basic('no-colon'))).toBeUndefined();
    expect(parseBasicAuth('Basic !!!')).toBeUndefined();
  });
});

describe('BasicAuthVerifier', () => {
  const users = new Map([['alice', bcrypt.hashSync('right', 4)]]);

  it('accepts the right password only, and runs bcrypt once per distinct attempt', async () => {
    const verifier = new BasicAuthVerifier();
    expect(await verifier.verify(users, { user: 'alice', password: 'right' })).toBe(true);
    expect(await verifier.verify(users, { user: 'alice', password: 'right' })).toBe(true);
    expect(verifier.comparisons).toBe(1);
    expect(await verifier.verify(users, { user: 'alice', password: 'wrong' })).toBe(false);
    expect(await verifier.verify(users, { user: 'alice', password: 'wrong' })).toBe(false);
    expect(verifier.comparisons).toBe(2);
  });

  it('compares an unknown user against a fixed hash, never accepting it', async () => {
    const verifier = new BasicAuthVerifier();
    expect(await verifier.verify(users, { user: 'mallory', password: 'fakepassword' })).toBe(false);
    expect(verifier.comparisons).toBe(1);
  });

  it('misses the cache when the hash changes (a reload) and forgets a removed user', async () => {
    const verifier = new BasicAuthVerifier();
    expect(await verifier.verify(users, { user: 'alice', password: 'right' })).toBe(true);
    const changed = new Map([['alice', bcrypt.hashSync('new', 4)]]);
    expect(await verifier.verify(changed, { user: 'alice', password: 'right' })).toBe(false);
    expect(await verifier.verify(changed, { user: 'alice', password: 'new' })).toBe(true);
    expect(await verifier.verify(new Map(), { user: 'alice', password: 'new' })).toBe(false);
    expect(verifier.comparisons).toBe(4);
  });

  it('answers concurrent attempts each on its own', async () => {
    const verifier = new BasicAuthVerifier();
    const attempts = ['a', 'b', 'c', 'right'].map((password) =>
      verifier.verify(users, { user: 'alice', password }),
    );
    expect(await Promise.all(attempts)).toEqual([false, false, false, true]);
    expect(verifier.comparisons).toBe(4);
  });
});
