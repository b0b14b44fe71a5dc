import { RedisServer, sleep, waitFor } from '@lattice/testing';
import {
  startCacheInstance,
  type CacheInstance,
} from '../../../test/fixtures/cache/cache-instance';
import { RedisProxy } from '../../../test/fixtures/cache/redis-proxy';

jest.setTimeout(60_000);

/**
 * The invalidation bus when an instance's subscriber loses Redis while its
 * command connection does not: the case where an L1 could serve a value whose
 * invalidation it never heard. Instance b reaches Redis through a proxy that
 * can cut or freeze only its pub/sub connection.
 */
describe('invalidation feed loss', () => {
  let server: RedisServer;
  let proxy: RedisProxy;
  let a: CacheInstance;
  let b: CacheInstance;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await RedisProxy.start(server.port);
    const timing = { bus: { heartbeatMs: 100, staleAfterMs: 600 } };
    a = await startCacheInstance({ REDIS_URL: server.url }, timing);
    b = await startCacheInstance({ REDIS_URL: proxy.url }, timing);
  });

  afterAll(async () => {
    await Promise.all([a, b].map((i) => i?.close()));
    await proxy?.close();
    await server?.dispose();
  });

  async function cachedOnB(key: string, value: unknown): Promise<void> {
    await a.cache.set(key, value);
    await sleep(20);
    expect(await b.cache.get(key)).toEqual(value);
    const hits = await b.sample('lattice_cache_hits_total', { tier: 'l1' });
    expect(await b.cache.get(key)).toEqual(value);
    expect(await b.sample('lattice_cache_hits_total', { tier: 'l1' })).toBe(hits + 1);
  }

  it('never serves a value changed while the subscriber was cut, during or after the reconnect', async () => {
    await cachedOnB('route', 'v0');
    const lostBefore = await b.sample('lattice_cache_feed_lost_total');

    proxy.cutSubscribers(); // closed, and refused again until restore()
    // Written before b can have noticed: its announcement is lost, and b cannot know which.
    await a.cache.set('route', 'v1');
    await waitFor('b to notice the cut', () => !b.cache.l1InUse, 5000, 1);
    expect(await b.cache.get('route')).toBe('v1');
    for (let i = 2; i <= 20; i++) {
      await a.cache.set('route', `v${i}`); // announcements b cannot hear
      expect(await b.cache.get('route')).toBe(`v${i}`);
      await sleep(10);
    }
    expect(b.cache.l1InUse).toBe(false);
    expect(await b.sample('lattice_cache_feed_lost_total')).toBeGreaterThan(lostBefore);

    proxy.restore();
    await waitFor('b to subscribe again', () => b.cache.l1InUse, 10_000, 10);
    expect(await b.cache.get('route')).toBe('v20');
    expect(await b.cache.get('route')).toBe('v20'); // from L1 again
    await a.cache.set('route', 'v21');
    await waitFor('b to hear of v21', async () => (await b.cache.get('route')) === 'v21', 2000, 1);
    for (let i = 0; i < 10; i++) expect(await b.cache.get('route')).toBe('v21');
  });

  it('stops trusting a subscriber that goes silent without closing, within staleAfterMs, and replaces it', async () => {
    await cachedOnB('silent', 'v1');
    proxy.freezeSubscribers(); // a half-open connection: nothing arrives, nothing closes
    await a.cache.set('silent', 'v2');
    const changedAt = Date.now();
    await waitFor(
      'b to stop serving v1',
      async () => (await b.cache.get('silent')) === 'v2',
      5000,
      5,
    );
    // Bounded by the heartbeat check: staleAfterMs plus one heartbeat interval (700 ms), plus generous slack for a loaded machine.
    expect(Date.now() - changedAt).toBeLessThan(3000);
    for (let i = 0; i < 5; i++) expect(await b.cache.get('silent')).toBe('v2');

    await waitFor('b to subscribe on a new connection', () => b.cache.l1InUse, 10_000, 10);
    await cachedOnB('silent', 'v3');
    await a.cache.set('silent', 'v4');
    await waitFor('b to hear of v4', async () => (await b.cache.get('silent')) === 'v4', 2000, 1);
  });

  it('tells watchers of a key about every change on any instance, and after a gap in the feed', async () => {
    const heard: string[] = [];
    const stop = b.cache.watch('watched', () => heard.push('b'));
    const stopLocal = a.cache.watch('watched', () => heard.push('a'));
    try {
      await a.cache.set('watched', 1);
      await waitFor('b to hear of the set', () => heard.includes('b'), 2000, 1);
      expect(heard).toContain('a');
      heard.length = 0;
      await a.cache.set('unrelated', 1);
      await sleep(50);
      expect(heard).toEqual([]);
      await a.cache.delete('watched');
      await waitFor('b to hear of the delete', () => heard.includes('b'), 2000, 1);
      heard.length = 0;
      await a.cache.deletePattern('watch*');
      await waitFor('b to hear of the pattern delete', () => heard.includes('b'), 2000, 1);

      // Whatever happened while the feed was cut went unannounced: watchers re-read when it is back.
      heard.length = 0;
      proxy.cutSubscribers();
      await waitFor('b to notice the cut', () => !b.cache.l1InUse, 5000, 1);
      proxy.restore();
      await waitFor('b to hear of the gap', () => heard.includes('b'), 10_000, 10);
    } finally {
      stop();
      stopLocal();
    }
    heard.length = 0;
    await a.cache.set('watched', 2);
    await sleep(50);
    expect(heard).toEqual([]);
  });
});
