import { ExpiringMap } from './expiring.map';
import { RefusedKeysCache } from './refused-keys.cache';

describe('ExpiringMap', () => {
  it('forgets entries when they expire and stays within its bound', () => {
    const map = new ExpiringMap<{ expiresAt: number }>(100);
    map.set('a', { expiresAt: 1000 }, 0);
    expect(map.get('a', 999)).toBeDefined();
    expect(map.get('a', 1000)).toBeUndefined();
    for (let i = 0; i < 1000; i++) map.set(`k${i}`, { expiresAt: 10_000 }, 1);
    expect(map.size).toBeLessThanOrEqual(100);
    expect(map.get('k999', 2)).toBeDefined();
  });
});

describe('RefusedKeysCache', () => {
  it('answers only for the same policy, until the moment given', () => {
    const cache = new RefusedKeysCache(10);
    const policy = { limit: 5, windowMs: 60_000 };
    cache.remember('k', policy, 5_000, 1_000);
    expect(cache.refusedFor('k', policy, 2_000)).toBe(3_000);
    expect(cache.refusedFor('k', { limit: 6, windowMs: 60_000 }, 2_000)).toBeUndefined();
    expect(cache.refusedFor('k', policy, 5_000)).toBeUndefined();
  });
});
