import { CacheLoadTimeoutError, type CacheResult } from '@lattice/cache';
import { RedisServer, sleep, waitFor } from '@lattice/testing';
import {
  startCacheInstance,
  type CacheInstance,
} from '../../../test/fixtures/cache/cache-instance';

jest.setTimeout(60_000);

/** Soft and hard load timeouts and early refresh, on three instances with their own connections. */
describe('getOrSet timeouts and early refresh', () => {
  let server: RedisServer;
  let instances: CacheInstance[];

  beforeAll(async () => {
    server = await RedisServer.start();
    const env = { REDIS_URL: server.url, KEY_PREFIX: 'lat:' };
    instances = await Promise.all([1, 2, 3].map(() => startCacheInstance(env)));
  });

  afterAll(async () => {
    await Promise.all((instances ?? []).map((i) => i.close()));
    await server?.dispose();
  });

  /** Stores `value` with a TTL that is over in 100 ms and a long grace, then waits for the TTL to pass. */
  async function inGrace(key: string, value: string): Promise<void> {
    await instances[0].cache.set(key, value, { ttl: 0.1, grace: 60, jitter: 0 });
    await sleep(150);
  }

  describe('soft timeout', () => {
    it('answers the value in grace at once when the loader is slow, and stores the load when it ends', async () => {
      const [a, b] = instances;
      await inGrace('slow', 'old');
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(600);
        return 'new';
      };
      const started = Date.now();
      const first = await a.cache.getOrSetEntry('slow', loader, { softTimeoutMs: 50 });
      expect(Date.now() - started).toBeLessThan(400);
      expect(first).toMatchObject({ value: 'old', stale: true });
      expect(first.error).toBeInstanceOf(CacheLoadTimeoutError);
      expect(first.error).toMatchObject({ code: 'CACHE_LOAD_TIMEOUT', status: 503 });
      // Callers meanwhile get the stale value too, without a second load.
      const again = await a.cache.getOrSetEntry('slow', loader, { softTimeoutMs: 50 });
      expect(again).toMatchObject({ value: 'old', stale: true });
      expect(calls).toBe(1);
      // The load finishes in the background and every instance reads its value.
      await waitFor(
        'the background load to be stored',
        async () => (await b.cache.get('slow')) === 'new',
        5000,
        10,
      );
      // The loading instance too, once its own store's reply is in (it may come
      // after b's read: they travel on different connections). Until then it
      // answers the stale value from the flight, never loading again.
      await waitFor(
        'the loading instance to answer the new value',
        async () => (await a.cache.getOrSet('slow', loader, { softTimeoutMs: 50 })) === 'new',
        5000,
        10,
      );
      expect(calls).toBe(1);
    });

    it('waits for the loader when nothing is in grace', async () => {
      const [a] = instances;
      const value = await a.cache.getOrSetEntry(
        'slow-empty',
        async () => {
          await sleep(200);
          return 'loaded';
        },
        { softTimeoutMs: 20 },
      );
      expect(value).toMatchObject({ value: 'loaded', source: 'loader', stale: false });
    });

    it('answers stale on instances waiting for the lock holder too', async () => {
      const [a, b] = instances;
      await inGrace('locked-slow', 'old');
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(800);
        return 'new';
      };
      const options = { lock: true, softTimeoutMs: 100 };
      const started = Date.now();
      const answers = await Promise.all([
        a.cache.getOrSetEntry('locked-slow', loader, options),
        b.cache.getOrSetEntry('locked-slow', loader, options),
      ]);
      expect(Date.now() - started).toBeLessThan(600);
      for (const answer of answers) expect(answer).toMatchObject({ value: 'old', stale: true });
      await waitFor(
        'the load to be stored',
        async () => (await b.cache.get('locked-slow')) === 'new',
        5000,
        10,
      );
      expect(calls).toBe(1);
    });
  });

  describe('hard timeout', () => {
    it('aborts a loader that runs too long and fails with 503 CACHE_LOAD_TIMEOUT', async () => {
      const [a] = instances;
      let aborted = false;
      const started = Date.now();
      await expect(
        a.cache.getOrSet(
          'never',
          (signal) =>
            new Promise((_, reject) => {
              signal.addEventListener('abort', () => {
                aborted = true;
                reject(signal.reason as Error);
              });
            }),
          { hardTimeoutMs: 150 },
        ),
      ).rejects.toMatchObject({ code: 'CACHE_LOAD_TIMEOUT', status: 503 });
      expect(aborted).toBe(true);
      expect(Date.now() - started).toBeLessThan(1000);
      // Even a loader that ignores its signal is not waited for.
      await expect(
        a.cache.getOrSet('ignores', () => sleep(2000).then(() => 'late'), { hardTimeoutMs: 100 }),
      ).rejects.toBeInstanceOf(CacheLoadTimeoutError);
      expect(await a.cache.get('never')).toBeUndefined();
    });

    it('serves the value in grace at the hard timeout, and bounds the background load after a soft one', async () => {
      const [a, b] = instances;
      await inGrace('bounded', 'old');
      const hard = await a.cache.getOrSetEntry('bounded', () => sleep(2000).then(() => 'late'), {
        hardTimeoutMs: 100,
      });
      expect(hard).toMatchObject({ value: 'old', stale: true });

      let signalled = false;
      const soft = await b.cache.getOrSetEntry(
        'bounded',
        async (signal) => {
          await sleep(600);
          signalled = signal.aborted;
          return 'too-late';
        },
        { softTimeoutMs: 30, hardTimeoutMs: 200 },
      );
      expect(soft).toMatchObject({ value: 'old', stale: true });
      await sleep(800);
      expect(signalled).toBe(true);
      const after = await a.cache.getOrSetEntry('bounded', () => 'fresh', {});
      expect(after).toMatchObject({ value: 'fresh', source: 'loader' }); // nothing late was stored
    });

    it('refuses bad timeouts and refresh fractions with 400 INVALID_CACHE_OPTIONS', async () => {
      const [a] = instances;
      for (const options of [
        { softTimeoutMs: 0 },
        { hardTimeoutMs: -5 },
        { hardTimeoutMs: 1.5 },
        { earlyRefresh: 1 },
        { earlyRefresh: 0 },
        { earlyRefresh: Number.NaN },
      ]) {
        await expect(a.cache.getOrSet('opts', () => 1, options)).rejects.toMatchObject({
          code: 'INVALID_CACHE_OPTIONS',
          status: 400,
        });
      }
    });
  });

  describe('early refresh', () => {
    it('reloads a hot key near the end of its life on one instance, so no caller ever waits for a load', async () => {
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(100);
        return `v${calls}`;
      };
      const options = { ttl: 1, earlyRefresh: 0.5, jitter: 0 };
      expect(await instances[0].cache.getOrSet('hot', loader, options)).toBe('v1');
      await sleep(600); // fresh for 400 ms more: inside the refresh window

      const answers: CacheResult<string>[] = [];
      const read = () =>
        Promise.all(
          instances.flatMap((i) =>
            Array.from({ length: 10 }, () => i.cache.getOrSetEntry('hot', loader, options)),
          ),
        );
      answers.push(...(await read()));
      expect(answers.every((r) => r.value === 'v1')).toBe(true);
      await waitFor(
        'every instance to see the refreshed value',
        async () =>
          (await Promise.all(instances.map((i) => i.cache.getOrSet('hot', loader, options)))).every(
            (v) => v === 'v2',
          ),
        2000,
        10,
      );
      expect(calls).toBe(2); // one refresh across three instances

      // Hammered for 2.5 s (past two TTLs): every answer from a tier, never a wait for the loader.
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        answers.push(...(await read()));
        await sleep(20);
      }
      expect(answers.filter((r) => r.source === 'loader')).toEqual([]);
      expect(calls).toBeGreaterThan(2);
      expect(calls).toBeLessThanOrEqual(8);
    });
  });
});
