import { CacheModule } from '@lattice/cache';
import { RedisCluster, sleep, waitFor } from '@lattice/testing';
import { CacheSyncModule } from './cache-sync.module';
import {
  startCacheInstance,
  type CacheInstance,
} from '../../../../test/fixtures/cache/cache-instance';
import { startTestApp, type TestApp } from '../../../../test/fixtures/test-app';

jest.setTimeout(90_000);

/** Three masters sharing the slots, so keys of one pattern lie on every one of them. */
describe('the cache on a Redis Cluster of three masters', () => {
  let cluster: RedisCluster;
  let a: CacheInstance;
  let b: CacheInstance;

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    const env = { ...cluster.env, KEY_PREFIX: 'c:' };
    [a, b] = await Promise.all([startCacheInstance(env), startCacheInstance(env)]);
  });

  afterAll(async () => {
    await Promise.all([a, b].map((i) => i?.close()));
    await cluster?.dispose();
  });

  it('reads, writes and invalidates across instances', async () => {
    expect(a.redis.isCluster).toBe(true);
    await a.cache.set('route', 'v1');
    expect(await b.cache.get('route')).toBe('v1');
    await a.cache.set('route', 'v2');
    await waitFor('b to see v2', async () => (await b.cache.get('route')) === 'v2', 2000, 1);
    let calls = 0;
    const values = await Promise.all(
      [a, b].flatMap((i) =>
        Array.from({ length: 200 }, () =>
          i.cache.getOrSet(
            'locked',
            async () => {
              calls++;
              await sleep(100);
              return 'once';
            },
            { lock: true },
          ),
        ),
      ),
    );
    expect(calls).toBe(1);
    expect(new Set(values)).toEqual(new Set(['once']));
  });

  it('deletes a pattern on every master, only inside the cache namespace, and from every L1', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `spread:${i}`);
    await Promise.all(keys.map((k) => a.cache.set(k, k)));
    await Promise.all(keys.slice(0, 50).map((k) => b.cache.get(k)));
    // Keys outside the cache namespace, spread over the masters too.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => a.redis.client.set(`cachex:${i}`, 'kept')),
    );
    const perMaster = (match = 'c:cache:spread:*') => cluster.keysPerMaster(match);
    const before = await perMaster();
    expect(before.every((n) => n > 0)).toBe(true);
    expect(before.reduce((x, y) => x + y, 0)).toBe(300);

    expect(await a.cache.deletePattern('spread:*')).toBe(300);

    expect(await perMaster()).toEqual([0, 0, 0]);
    const outside = await perMaster('c:cachex:*');
    expect(outside.every((n) => n > 0) && outside.reduce((x, y) => x + y, 0)).toBe(30);
    await sleep(30);
    for (const key of keys.slice(0, 50)) expect(await b.cache.get(key)).toBeUndefined();
  });

  it('deletes a tag whose entries lie on every master from every L1, without SCAN', async () => {
    const keys = Array.from({ length: 120 }, (_, i) => `tagged:${i}`);
    await Promise.all(keys.map((k, i) => a.cache.set(k, i, { tags: [i < 60 ? 'low' : 'high'] })));
    for (const key of keys) await b.cache.get(key); // into b's L1
    const perMaster = await cluster.keysPerMaster('c:cache:tagged:*');
    expect(perMaster.every((n) => n > 0)).toBe(true);
    const scans = async () => {
      let calls = 0;
      for (const node of cluster.nodes) {
        const client = node.client();
        const info = await client.info('commandstats');
        client.disconnect();
        calls += Number(/cmdstat_scan:calls=(\d+)/.exec(info)?.[1] ?? 0);
      }
      return calls;
    };
    const scansBefore = await scans();

    expect(await b.cache.deleteTags('low')).toBe(60);

    expect(await scans()).toBe(scansBefore);
    expect((await cluster.keysPerMaster('c:cache:tagged:*')).reduce((x, y) => x + y, 0)).toBe(60);
    await waitFor(
      'a to drop the low entries',
      async () => (await a.cache.get('tagged:0')) === undefined,
      2000,
      1,
    );
    for (const [i, key] of keys.entries()) {
      expect(await a.cache.get(key)).toBe(i < 60 ? undefined : i);
      expect(await b.cache.get(key)).toBe(i < 60 ? undefined : i);
    }
  });

  it('refreshes a hot key early on one instance and answers stale at the soft timeout', async () => {
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(100);
      return `v${calls}`;
    };
    const options = { ttl: 1, earlyRefresh: 0.5, jitter: 0 };
    expect(await a.cache.getOrSet('hot', loader, options)).toBe('v1');
    await sleep(600); // inside the refresh window
    const answers = await Promise.all(
      [a, b].flatMap((i) =>
        Array.from({ length: 10 }, () => i.cache.getOrSetEntry('hot', loader, options)),
      ),
    );
    expect(answers.every((r) => r.value === 'v1' && r.source !== 'loader')).toBe(true);
    await waitFor(
      'b to see the refresh',
      async () => (await b.cache.getOrSet('hot', loader, options)) === 'v2',
      2000,
      10,
    );
    expect(calls).toBe(2);

    await a.cache.set('slow', 'old', { ttl: 0.1, grace: 60, jitter: 0 });
    await sleep(150);
    const slow = async () => {
      await sleep(500);
      return 'new';
    };
    const stale = await b.cache.getOrSetEntry('slow', slow, { lock: true, softTimeoutMs: 50 });
    expect(stale).toMatchObject({ value: 'old', stale: true });
    await waitFor(
      'the background load',
      async () => (await a.cache.get('slow')) === 'new',
      5000,
      10,
    );
  });

  it('reads cache-sync events from the hash-tagged streams, and dead-letters on one slot', async () => {
    let gateway: TestApp | undefined;
    try {
      gateway = await startTestApp({
        env: {
          ...cluster.env,
          KEY_PREFIX: 'c:',
          CACHE_SYNC_TOKEN: 'cluster-token-0123456789',
        },
        imports: [CacheModule.forRoot(), CacheSyncModule.forRoot({ consumer: { blockMs: 100 } })],
      });
      const client = a.redis.client; // cluster-aware, with the c: prefix
      await client.xadd(
        '{cache-sync}:events',
        '*',
        'event',
        JSON.stringify({ key: 'SET', value: { data: { key: 'from-stream', value: 1 } } }),
      );
      await client.xadd(
        '{cache-sync}:events',
        '*',
        'event',
        JSON.stringify({ key: 'NOPE', value: { data: {} } }),
      );
      await waitFor(
        'the event to be applied',
        async () => (await b.cache.get('from-stream')) === 1,
        10_000,
      );
      await waitFor(
        'the dead letter',
        async () => (await client.xlen('{cache-sync}:dead')) === 1,
        10_000,
      );
      const pending = (await client.xpending('{cache-sync}:events', 'cache-sync')) as [number];
      expect(pending[0]).toBe(0);
    } finally {
      await gateway?.close();
    }
  });
});
