import { CACHE_KEY_PREFIX } from '@lattice/cache';
import { RedisServer, sleep, waitFor } from '@lattice/testing';
import {
  startCacheInstance,
  type CacheInstance,
} from '../../../test/fixtures/cache/cache-instance';

jest.setTimeout(60_000);

/**
 * Another instance hears of a change when the invalidation reaches its
 * subscriber, a moment after the writer's own reply; in one test process the
 * next line can run in between, so checks of other instances wait for it.
 */
const propagated = () => sleep(30);

describe('two-level cache on several instances', () => {
  let server: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  let a: CacheInstance;
  let b: CacheInstance;
  let c: CacheInstance;

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = server.client();
    const env = { REDIS_URL: server.url, KEY_PREFIX: 'lat:' };
    [a, b, c] = await Promise.all([
      startCacheInstance(env),
      startCacheInstance(env),
      startCacheInstance(env),
    ]);
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([a, b, c].map((i) => i?.close()));
    await server?.dispose();
  });

  it('stores JSON under cache: with a TTL, and every instance reads it', async () => {
    await a.cache.set('profile:ada', { name: 'Ada', langs: ['en'] }, { ttl: 60 });
    expect(await b.cache.get('profile:ada')).toEqual({ name: 'Ada', langs: ['en'] });
    const stored = await raw.get('lat:cache:profile:ada');
    expect(stored).toMatch(/^J\d+:\d+:[\w-]+\|\{"name":"Ada","langs":\["en"\]\}$/);
    const pttl = await raw.pttl('lat:cache:profile:ada');
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await c.cache.get('profile:nobody')).toBeUndefined();
  });

  it('answers a repeated get from L1 and counts hits and misses per tier', async () => {
    await a.cache.set('counted', 1);
    const before = {
      l1Hit: await b.sample('lattice_cache_hits_total', { tier: 'l1' }),
      l1Miss: await b.sample('lattice_cache_misses_total', { tier: 'l1' }),
      l2Hit: await b.sample('lattice_cache_hits_total', { tier: 'l2' }),
      l2Miss: await b.sample('lattice_cache_misses_total', { tier: 'l2' }),
    };
    expect(await b.cache.get('counted')).toBe(1); // L1 miss, L2 hit
    expect(await b.cache.get('counted')).toBe(1); // L1 hit
    expect(await b.cache.get('counted')).toBe(1); // L1 hit
    expect(await b.cache.get('never-set')).toBeUndefined(); // both miss
    expect(await b.sample('lattice_cache_hits_total', { tier: 'l1' })).toBe(before.l1Hit + 2);
    expect(await b.sample('lattice_cache_misses_total', { tier: 'l1' })).toBe(before.l1Miss + 2);
    expect(await b.sample('lattice_cache_hits_total', { tier: 'l2' })).toBe(before.l2Hit + 1);
    expect(await b.sample('lattice_cache_misses_total', { tier: 'l2' })).toBe(before.l2Miss + 1);
    const text = await b.metrics.registry.metrics();
    expect(text).toMatch(/lattice_cache_hits_total\{tier="l1"\} \d+/);
    expect(text).toMatch(/lattice_cache_l1_entries \d+/);
    expect(text).toMatch(/lattice_cache_l1_trusted 1/);
  });

  it('drops a changed entry from every other L1 within milliseconds', async () => {
    await a.cache.set('route', 'v1');
    expect(await b.cache.get('route')).toBe('v1');
    expect(await c.cache.get('route')).toBe('v1');
    const l1Before = await b.sample('lattice_cache_hits_total', { tier: 'l1' });
    expect(await b.cache.get('route')).toBe('v1');
    expect(await b.sample('lattice_cache_hits_total', { tier: 'l1' })).toBe(l1Before + 1);

    await a.cache.set('route', 'v2');
    const changedAt = Date.now();
    await waitFor(
      'b and c to see v2',
      async () => (await b.cache.get('route')) === 'v2' && (await c.cache.get('route')) === 'v2',
      2000,
      1,
    );
    // Typically under a millisecond; the bound is loose for a loaded CI machine.
    expect(Date.now() - changedAt).toBeLessThan(250);

    await c.cache.delete('route');
    await waitFor(
      'a and b to miss',
      async () =>
        (await a.cache.get('route')) === undefined && (await b.cache.get('route')) === undefined,
      2000,
      1,
    );
  });

  it('keeps namespaces apart and deletes several keys at once', async () => {
    const users = a.cache.namespace('users');
    const orders = a.cache.namespace('orders');
    await users.set('1', 'user one');
    await orders.set('1', 'order one');
    expect(await b.cache.namespace('users').get('1')).toBe('user one');
    expect(await b.cache.get('orders:1')).toBe('order one');
    expect(await raw.exists('lat:cache:users:1', 'lat:cache:orders:1')).toBe(2);
    expect(await users.delete(['1', '2', '1'])).toBe(1);
    await propagated();
    expect(await b.cache.namespace('users').get('1')).toBeUndefined();
    expect(await b.cache.namespace('orders').get('1')).toBe('order one');
    expect(() => a.cache.namespace('bad name')).toThrow(/namespace/);
  });

  it('hands out frozen values, so a caller cannot change what others read', async () => {
    await a.cache.set('frozen', { list: [1, 2] });
    const first = await a.cache.get<{ list: number[] }>('frozen');
    expect(() => first!.list.push(3)).toThrow(TypeError);
    const original = { list: [1, 2] };
    await a.cache.set('copied', original);
    original.list.push(3);
    expect(await a.cache.get('copied')).toEqual({ list: [1, 2] });
  });

  it('stores bytes', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await a.cache.set('bytes', bytes);
    const read = await b.cache.get<Buffer>('bytes');
    expect(Buffer.isBuffer(read) && read.equals(bytes)).toBe(true);
  });

  it('refuses bad keys, values and options with typed errors', async () => {
    await expect(a.cache.get('bad key')).rejects.toMatchObject({
      code: 'INVALID_CACHE_KEY',
      status: 400,
    });
    await expect(a.cache.set('k', undefined)).rejects.toMatchObject({
      code: 'INVALID_CACHE_VALUE',
    });
    await expect(a.cache.set('k', 1, { ttl: 0 })).rejects.toMatchObject({
      code: 'INVALID_CACHE_OPTIONS',
    });
    await expect(a.cache.set('k', 1, { ttl: Number.NaN })).rejects.toMatchObject({
      code: 'INVALID_CACHE_OPTIONS',
    });
    await expect(a.cache.deletePattern('a\\*')).rejects.toMatchObject({
      code: 'INVALID_CACHE_PATTERN',
    });
  });

  it('spreads TTLs with jitter, never past the TTL asked for', async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        a.cache.set(`jitter:${i}`, i, { ttl: 100, jitter: 0.5 }),
      ),
    );
    const ttls = await Promise.all(
      Array.from({ length: 50 }, (_, i) => raw.pttl(`lat:cache:jitter:${i}`)),
    );
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThanOrEqual(49_000);
      expect(ttl).toBeLessThanOrEqual(100_000);
    }
    expect(new Set(ttls.map((t) => Math.round(t / 1000))).size).toBeGreaterThan(10);
    await a.cache.set('no-jitter', 1, { ttl: 100, jitter: 0 });
    expect(await raw.pttl('lat:cache:no-jitter')).toBeGreaterThan(99_000);
  });

  describe('getOrSet', () => {
    it('calls the loader once for a thousand concurrent misses on one instance', async () => {
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(100);
        return { loaded: true };
      };
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => a.cache.getOrSet('stampede:one', loader, { ttl: 30 })),
      );
      expect(calls).toBe(1);
      expect(results.every((r) => r.loaded)).toBe(true);
      expect(await b.cache.get('stampede:one')).toEqual({ loaded: true });
    });

    it('calls it once per instance without the lock, and once in all with lock: true', async () => {
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(200);
        return calls;
      };
      const storm = (key: string, lock: boolean) =>
        Promise.all(
          [a, b, c].flatMap((i) =>
            Array.from({ length: 1000 }, () => i.cache.getOrSet(key, loader, { ttl: 30, lock })),
          ),
        );
      await storm('stampede:local', false);
      expect(calls).toBe(3);
      calls = 0;
      const values = await storm('stampede:global', true);
      expect(calls).toBe(1);
      expect(new Set(values)).toEqual(new Set([1]));
    });

    it('says where a value came from', async () => {
      const loader = () => 'x';
      expect(await a.cache.getOrSetEntry('source', loader)).toEqual({
        value: 'x',
        source: 'loader',
        stale: false,
      });
      expect(await a.cache.getOrSetEntry('source', loader)).toEqual({
        value: 'x',
        source: 'l1',
        stale: false,
      });
      expect(await b.cache.getOrSetEntry('source', loader)).toEqual({
        value: 'x',
        source: 'l2',
        stale: false,
      });
    });

    it('serves the stale value inside its grace period when the loader fails, and says so', async () => {
      await a.cache.getOrSet('graced', () => 'first', { ttl: 0.2, grace: 1.5 });
      await sleep(300);
      const failure = new Error('upstream down');
      const failing = () => Promise.reject(failure);
      for (const instance of [a, b]) {
        const result = await instance.cache.getOrSetEntry('graced', failing, {
          ttl: 0.2,
          grace: 1.5,
        });
        expect(result).toMatchObject({ value: 'first', stale: true, error: failure });
      }
      expect(await a.sample('lattice_cache_stale_served_total')).toBeGreaterThanOrEqual(1);
      expect(await a.cache.get('graced')).toBeUndefined(); // past its TTL: not fresh
      const refreshed = await b.cache.getOrSetEntry('graced', () => 'second', { ttl: 30 });
      expect(refreshed).toEqual({ value: 'second', source: 'loader', stale: false });
      await sleep(1500);
      await a.cache.delete('graced');
      await expect(a.cache.getOrSet('graced', failing, { ttl: 0.2, grace: 1 })).rejects.toBe(
        failure,
      );
    });

    it('throws the loader error when there is nothing in grace', async () => {
      await expect(
        a.cache.getOrSet('no-grace', () => Promise.reject(new Error('nope'))),
      ).rejects.toThrow('nope');
      expect(await raw.exists('lat:cache:no-grace')).toBe(0);
    });

    it('never overwrites a write made while its loader ran, nor brings back a deleted entry', async () => {
      let release!: () => void;
      const slow = new Promise<void>((resolve) => (release = resolve));
      const pending = a.cache.getOrSetEntry('race', async () => {
        await slow;
        return 'from the slow loader';
      });
      await sleep(50);
      await b.cache.set('race', 'newer, set meanwhile');
      release();
      expect(await pending).toMatchObject({ value: 'newer, set meanwhile', source: 'l2' });
      expect(await c.cache.get('race')).toBe('newer, set meanwhile');

      await a.cache.set('race:deleted', 'old', { ttl: 0.1, grace: 30 });
      await sleep(150);
      let releaseDeleted!: () => void;
      const waitDeleted = new Promise<void>((resolve) => (releaseDeleted = resolve));
      const refreshing = a.cache.getOrSet('race:deleted', async () => {
        await waitDeleted;
        return 'loaded before the delete';
      });
      await sleep(50);
      await b.cache.delete('race:deleted');
      releaseDeleted();
      expect(await refreshing).toBe('loaded before the delete');
      expect(await raw.exists('lat:cache:race:deleted')).toBe(0);
    });

    it('does not cache in L1 a value read while its key was being changed', async () => {
      await a.cache.set('inflight', 'old');
      // Many reads on b race with a write on a; whatever they return, b's L1 ends up with the new value.
      const reads = Array.from({ length: 200 }, () => b.cache.get('inflight'));
      await a.cache.set('inflight', 'new');
      await Promise.all(reads);
      await waitFor('b to see new', async () => (await b.cache.get('inflight')) === 'new', 2000, 1);
      await sleep(50);
      for (let i = 0; i < 20; i++) expect(await b.cache.get('inflight')).toBe('new');
    });
  });

  describe('deletePattern', () => {
    it('deletes with SCAN and UNLINK only inside the cache namespace, and empties every L1', async () => {
      await raw.set('lat:session:{1}:abc', 'not cache');
      await raw.set('lat:cachex', 'not cache either');
      await raw.set('cache:unprefixed', 'another deployment');
      await raw.set('lat:other:cache:1', 'not cache');
      const keys = Array.from({ length: 1200 }, (_, i) => `bulk:${i}`);
      await Promise.all(keys.map((k) => a.cache.set(k, k, { ttl: 60 })));
      await Promise.all(keys.slice(0, 100).map((k) => b.cache.get(k))); // in b's L1
      await raw.call('CONFIG', 'RESETSTAT');

      expect(await c.cache.deletePattern('bulk:*')).toBe(1200);
      await propagated();

      const stats = (await raw.call('INFO', 'commandstats')) as string;
      expect(stats).toMatch(/cmdstat_scan:/);
      expect(stats).toMatch(/cmdstat_unlink:calls=3,/); // 1200 keys, pages of 500
      expect(stats).not.toMatch(/cmdstat_keys:/);
      expect(await b.cache.get('bulk:1')).toBeUndefined();
      expect(await raw.get('lat:session:{1}:abc')).toBe('not cache');
      expect(await raw.get('lat:cachex')).toBe('not cache either');
      expect(await raw.get('cache:unprefixed')).toBe('another deployment');
      expect(await raw.get('lat:other:cache:1')).toBe('not cache');
    });

    it('drops from L1 exactly what it drops from Redis', async () => {
      const keys = ['p:1', 'p:2', 'p:10', 'p:a', 'p:b:1', 'q:1', 'p', 'p:-'];
      const patterns = ['p:?', 'p:[0-9]*', 'p:[^0-9]', '*:1', 'p:*', '*'];
      for (const pattern of patterns) {
        await Promise.all(keys.map((k) => a.cache.set(k, k)));
        await Promise.all(keys.map((k) => b.cache.get(k)));
        const scanned = new Set<string>();
        let cursor = '0';
        do {
          const [next, found] = await raw.scan(
            cursor,
            'MATCH',
            `lat:${CACHE_KEY_PREFIX}${pattern}`,
            'COUNT',
            1000,
          );
          cursor = next;
          found.forEach((k) => scanned.add(k.slice('lat:cache:'.length)));
        } while (cursor !== '0');
        expect(await a.cache.deletePattern(pattern)).toBe(scanned.size);
        await propagated();
        for (const key of keys) {
          const gone = (await b.cache.get(key)) === undefined;
          expect([pattern, key, gone]).toEqual([pattern, key, scanned.has(key)]);
        }
      }
    });

    it('confines a namespace pattern to the namespace', async () => {
      await a.cache.set('tenant-a:x', 1);
      await a.cache.set('tenant-b:x', 1);
      expect(await a.cache.namespace('tenant-a').deletePattern('*')).toBe(1);
      expect(await b.cache.get('tenant-b:x')).toBe(1);
    });
  });

  it('warms once across instances', async () => {
    let runs = 0;
    const task = async () => {
      runs++;
      await a.cache.set('warm:value', 'warm');
      await sleep(200);
    };
    await Promise.all([a, b, c].map((i) => i.cache.warm('seed', task)));
    expect(runs).toBe(1);
    expect(await c.cache.get('warm:value')).toBe('warm');
  });
});

describe('the cache while Redis is down', () => {
  let server: RedisServer;
  let a: CacheInstance;
  let b: CacheInstance;

  beforeAll(async () => {
    server = await RedisServer.start();
    const env = { REDIS_URL: server.url };
    [a, b] = await Promise.all([startCacheInstance(env), startCacheInstance(env)]);
  });

  afterAll(async () => {
    await Promise.all([a, b].map((i) => i?.close()));
    await server?.dispose();
  });

  it('stops trusting L1, answers 503 for get, loads without caching, and comes back empty', async () => {
    await a.cache.set('k', 'before');
    expect(await b.cache.get('k')).toBe('before'); // in b's L1
    await server.kill();
    await waitFor('b to stop using L1', () => !b.cache.l1InUse, 5000, 10);
    await expect(b.cache.get('k')).rejects.toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    let calls = 0;
    const loaded = await Promise.all(
      Array.from({ length: 50 }, () => b.cache.getOrSetEntry('k', () => `loaded ${++calls}`)),
    );
    expect(calls).toBe(1);
    expect(loaded[0]).toEqual({ value: 'loaded 1', source: 'loader', stale: false });
    await expect(b.cache.set('k', 'x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    await server.restart();
    await waitFor('b to use L1 again', () => b.cache.l1InUse, 10_000, 20);
    await waitFor('a to use L1 again', () => a.cache.l1InUse, 10_000, 20);
    // L1 follows the subscriber; reads and writes need the commands connection,
    // which reconnects on its own schedule.
    await Promise.all([a, b].map((i) => i.redis.whenReady(10_000)));
    expect(await b.cache.get('k')).toBeUndefined();
    await a.cache.set('k', 'after');
    expect(await b.cache.get('k')).toBe('after');
  });
});

describe('L1 bounds', () => {
  let server: RedisServer;
  let small: CacheInstance;

  beforeAll(async () => {
    server = await RedisServer.start();
    small = await startCacheInstance(
      { REDIS_URL: server.url },
      { l1: { maxEntries: 10, maxBytes: 4096, maxEntryBytes: 1024 } },
    );
  });

  afterAll(async () => {
    await small?.close();
    await server?.dispose();
  });

  it('keeps at most maxEntries, at most maxBytes, and nothing over maxEntryBytes', async () => {
    for (let i = 0; i < 50; i++) await small.cache.set(`n:${i}`, i);
    expect(await small.sample('lattice_cache_l1_entries')).toBe(10);
    for (let i = 0; i < 10; i++) await small.cache.set(`big:${i}`, 'x'.repeat(600));
    expect(await small.sample('lattice_cache_l1_bytes')).toBeLessThanOrEqual(4096);
    await small.cache.set('huge', 'x'.repeat(5000));
    const l2Hits = await small.sample('lattice_cache_hits_total', { tier: 'l2' });
    expect(await small.cache.get('huge')).toHaveLength(5000);
    expect(await small.cache.get('huge')).toHaveLength(5000);
    expect(await small.sample('lattice_cache_hits_total', { tier: 'l2' })).toBe(l2Hits + 2);
  });
});
