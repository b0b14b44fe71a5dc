import { InvalidCacheKeyError } from '@lattice/cache';
import { RedisServer, sleep, waitFor } from '@lattice/testing';
import {
  startCacheInstance,
  type CacheInstance,
} from '../../../test/fixtures/cache/cache-instance';

jest.setTimeout(60_000);

/** Tags on standalone Redis, three instances on their own connections (the cluster case is in cache-cluster). */
describe('cache tags', () => {
  let server: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  let instances: CacheInstance[];

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = server.client();
    const env = { REDIS_URL: server.url, KEY_PREFIX: 'lat:' };
    instances = await Promise.all([1, 2, 3].map(() => startCacheInstance(env)));
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all((instances ?? []).map((i) => i.close()));
    await server?.dispose();
  });

  async function scans(): Promise<number> {
    const info = await raw.info('commandstats');
    return Number(/cmdstat_scan:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }

  it('deletes every value carrying a tag from Redis and from every L1, without SCAN', async () => {
    const [a, b, c] = instances;
    const products = a.cache.namespace('products');
    for (let i = 0; i < 50; i++) {
      await products.set(`p${i}`, { id: i }, { tags: [i % 2 === 0 ? 'even' : 'odd', 'all'] });
    }
    await a.cache.set('untagged', 'kept');
    // Every instance holds the values in L1.
    for (const i of [b, c]) {
      for (let n = 0; n < 50; n++) expect(await i.cache.get(`products:p${n}`)).toEqual({ id: n });
      const hits = await i.sample('lattice_cache_hits_total', { tier: 'l1' });
      expect(await i.cache.get('products:p0')).toEqual({ id: 0 });
      expect(await i.sample('lattice_cache_hits_total', { tier: 'l1' })).toBe(hits + 1);
    }
    expect(await raw.smembers('lat:cache-tag:{products:even}')).toHaveLength(25);
    expect(await raw.pttl('lat:cache-tag:{products:even}')).toBeGreaterThan(3_000_000);

    const scansBefore = await scans();
    expect(await products.deleteTags('even')).toBe(25);
    expect(await scans()).toBe(scansBefore);
    expect(await raw.exists('lat:cache:products:p0', 'lat:cache:products:p2')).toBe(0);
    expect(await raw.exists('lat:cache-tag:{products:even}')).toBe(0);
    for (const i of instances) {
      await waitFor(
        'every instance to drop the even products',
        async () => (await i.cache.get('products:p0')) === undefined,
        2000,
        1,
      );
      for (let n = 0; n < 50; n++) {
        expect(await i.cache.get(`products:p${n}`)).toEqual(n % 2 === 0 ? undefined : { id: n });
      }
    }
    expect(await c.cache.get('untagged')).toBe('kept');

    // A second tag of the same entries; several tags at once; a tag nothing carries.
    expect(await b.cache.namespace('products').deleteTags(['all', 'never-used'])).toBe(25);
    for (const i of instances) {
      await waitFor(
        'every instance to drop the rest',
        async () => (await i.cache.get('products:p1')) === undefined,
        2000,
        1,
      );
      for (let n = 0; n < 50; n++) expect(await i.cache.get(`products:p${n}`)).toBeUndefined();
    }
    expect(await a.cache.get('untagged')).toBe('kept');
  });

  it('tags values stored by getOrSet, and loads them again after the tag is deleted', async () => {
    const [a, b] = instances;
    let loads = 0;
    const load = () =>
      b.cache.getOrSet('user:7:profile', () => ({ name: `v${++loads}` }), { tags: ['user:7'] });
    expect(await load()).toEqual({ name: 'v1' });
    expect(await load()).toEqual({ name: 'v1' });
    expect(await a.cache.deleteTags('user:7')).toBe(1);
    await waitFor('b to drop the profile', async () => (await load()).name === 'v2', 2000, 1);
    expect(loads).toBe(2);
  });

  it('keeps tags inside their namespace', async () => {
    const [a, b] = instances;
    await a.cache.namespace('one').set('x', 1, { tags: ['t'] });
    await a.cache.namespace('two').set('x', 2, { tags: ['t'] });
    expect(await b.cache.namespace('one').deleteTags('t')).toBe(1);
    await waitFor(
      'a to drop one:x',
      async () => (await a.cache.get('one:x')) === undefined,
      2000,
      1,
    );
    expect(await a.cache.get('two:x')).toBe(2);
  });

  it('tells watchers of every deleted key, on every instance', async () => {
    const [a, b] = instances;
    await a.cache.set('watched-tagged', 1, { tags: ['w'] });
    await sleep(100); // the set's own announcement reaches b before b starts watching
    const heard: string[] = [];
    const stops = [a, b].map((i, n) => i.cache.watch('watched-tagged', () => heard.push(`${n}`)));
    try {
      await a.cache.deleteTags('w');
      await waitFor('both to hear', () => heard.includes('0') && heard.includes('1'), 2000, 1);
    } finally {
      for (const stop of stops) stop();
    }
  });

  it('refuses bad tags with a typed error', async () => {
    const [a] = instances;
    await expect(a.cache.set('k', 1, { tags: ['a b'] })).rejects.toBeInstanceOf(
      InvalidCacheKeyError,
    );
    await expect(a.cache.set('k', 1, { tags: ['{slot}'] })).rejects.toThrow(/cache tag/);
    await expect(
      a.cache.set('k', 1, { tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }),
    ).rejects.toThrow(/at most 32/);
    await expect(a.cache.deleteTags([''])).rejects.toBeInstanceOf(InvalidCacheKeyError);
    await expect(
      a.cache.set('k', 1, { tags: 'not-a-list' as unknown as string[] }),
    ).rejects.toMatchObject({ code: 'INVALID_CACHE_KEY', status: 400 });
    expect(await a.cache.get('k')).toBeUndefined();
  });
});
