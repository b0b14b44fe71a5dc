// npm run bench:cache — operations per second of two-tier caches (an in-process
// LRU over Redis), all in one run, against one private redis-server:
//   lattice         @lattice/cache: lru-cache L1, Redis L2, invalidation bus
//   bentocache      memory driver L1 (its default: entries serialized) + redis driver L2 + redis bus
//   cache-manager   cache-manager 7: Keyv(lru-cache) L1 + Keyv(@keyv/redis) L2; it has no bus
// Scenarios:
//   get, L1 hit        one hot key, read again and again
//   getOrSet, L1 hit   one hot key; the loader never runs
//   getOrSet, L2 hit   20 000 keys read in turn through an L1 of 1 000: every call misses L1, finds Redis
//   getOrSet, miss     a new key every call: Redis miss, loader, write to both tiers (and the bus)
// Every cache gets the same L1 size (1 000 entries), the same values and the
// same concurrency; rounds alternate the order so drift hits everyone alike.
import { Logger } from '@nestjs/common';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import { LRUCache } from 'lru-cache';
import { CacheModule, CacheService } from '@lattice/cache';
import { RedisServer, startPlatform, waitFor } from '@lattice/testing';
import { median } from '../statistics';

const DURATION_MS = Number(process.env.BENCH_DURATION ?? 2) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const L1_ENTRIES = 1000;
const L2_KEYS = 20_000;
/** Calls in flight per cache: 1 for L1 hits (pure in-process cost), 64 where Redis is on the path. */
const CONCURRENCY = { l1: 1, redis: 64 };
const TTL_S = 3600;

const valueFor = (i: number) => ({
  id: i,
  name: `item ${i}`,
  tags: ['a', 'b', 'c'],
  price: i * 1.5,
});

/** What each cache under test must do, in its own API. */
interface Contender {
  name: string;
  get(key: string): Promise<unknown>;
  getOrSet(key: string, load: () => unknown): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  close(): Promise<void>;
}

async function lattice(redisUrl: string): Promise<Contender> {
  Logger.overrideLogger(['error']);
  const platform = await startPlatform({
    env: { REDIS_URL: redisUrl, KEY_PREFIX: 'lattice:' },
    imports: [CacheModule.forRoot({ l1: { maxEntries: L1_ENTRIES } }), CacheModule],
  });
  const cache = platform.get(CacheService);
  await waitFor('lattice to subscribe', () => cache.l1InUse, 10_000, 10);
  return {
    name: 'lattice',
    get: (key) => cache.get(key),
    getOrSet: (key, load) => cache.getOrSet(key, load, { ttl: TTL_S }),
    set: (key, value) => cache.set(key, value, { ttl: TTL_S }),
    close: () => platform.close(),
  };
}

/**
 * Its documented two-tier set-up. (Its `serialize: false` L1 option cannot be
 * measured: with an L2 it fails on the first read, in bentocache 1.6.1.)
 */
function bento(port: number): Contender {
  const connection = { host: '127.0.0.1', port };
  const bento = new BentoCache({
    default: 'cache',
    prefix: 'bento',
    stores: {
      cache: bentostore()
        .useL1Layer(memoryDriver({ maxItems: L1_ENTRIES, maxSize: '64mb' }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
  return {
    name: 'bentocache',
    get: (key) => bento.get({ key }),
    getOrSet: (key, load) => bento.getOrSet({ key, factory: load, ttl: TTL_S * 1000 }),
    set: (key, value) => bento.set({ key, value, ttl: TTL_S * 1000 }),
    close: () => bento.disconnectAll(),
  };
}

function cacheManager(redisUrl: string): Contender {
  const cache = createCache({
    stores: [
      new Keyv({
        store: new LRUCache<string, object | string>({ max: L1_ENTRIES }),
        namespace: 'cm',
      }),
      new Keyv({ store: new KeyvRedis(redisUrl), namespace: 'cm' }),
    ],
  });
  return {
    name: 'cache-manager',
    get: (key) => cache.get(key),
    getOrSet: (key, load) => cache.wrap(key, load, TTL_S * 1000),
    set: (key, value) => cache.set(key, value, TTL_S * 1000),
    close: async () => void (await cache.disconnect()),
  };
}

/** Runs `op` from `concurrency` loops for DURATION_MS; yields to the event loop every 256 calls. */
async function measure(op: (i: number) => Promise<unknown>, concurrency: number): Promise<number> {
  const end = performance.now() + DURATION_MS;
  let calls = 0;
  const loop = async () => {
    for (let i = 0; ; i++) {
      for (let j = 0; j < 256; j++) await op(calls++);
      if (performance.now() >= end) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return calls / ((performance.now() - started) / 1000);
}

interface Scenario {
  name: string;
  concurrency: number;
  run(c: Contender, round: number): (i: number) => Promise<unknown>;
}

const scenarios: Scenario[] = [
  { name: 'get, L1 hit', concurrency: CONCURRENCY.l1, run: (c) => () => c.get('hot') },
  {
    name: 'getOrSet, L1 hit',
    concurrency: CONCURRENCY.l1,
    run: (c) => () => c.getOrSet('hot', () => valueFor(0)),
  },
  {
    name: 'getOrSet, L2 hit',
    concurrency: CONCURRENCY.redis,
    run: (c) => (i) =>
      c.getOrSet(`warm:${i % L2_KEYS}`, () =>
        Promise.reject(new Error(`warm:${i % L2_KEYS} should be in Redis`)),
      ),
  },
  {
    name: 'getOrSet, miss',
    concurrency: CONCURRENCY.redis,
    run: (c, round) => (i) => c.getOrSet(`miss:${round}:${i}`, () => valueFor(i)),
  },
];

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const contenders = [await lattice(server.url), bento(server.port), cacheManager(server.url)];
  try {
    for (const c of contenders) {
      await c.set('hot', valueFor(0));
      for (let i = 0; i < L2_KEYS; i += 500) {
        await Promise.all(
          Array.from({ length: 500 }, (_, j) => c.set(`warm:${i + j}`, valueFor(i + j))),
        );
      }
      await c.get('hot');
      await c.getOrSet('hot', () => valueFor(0));
    }
    const results = new Map<string, number[]>();
    for (const s of scenarios) {
      for (const c of contenders) await measure(s.run(c, -1), s.concurrency).catch(() => 0); // warm-up
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of scenarios) {
        const order = round % 2 ? [...contenders].reverse() : contenders;
        for (const c of order) {
          const ops = await measure(s.run(c, round), s.concurrency);
          const key = `${s.name}|${c.name}`;
          results.set(key, [...(results.get(key) ?? []), ops]);
        }
      }
    }
    const ops = (s: string, c: string) => median(results.get(`${s}|${c}`)!);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(
      `\ncache benchmark: ${ROUNDS} rounds × ${DURATION_MS / 1000} s per scenario and cache, median ops/s`,
    );
    console.log(
      `Node ${process.version}, L1 ${L1_ENTRIES} entries, ${L2_KEYS} keys in Redis, concurrency ${CONCURRENCY.l1} (L1) / ${CONCURRENCY.redis} (Redis)\n`,
    );
    console.log(
      `| scenario | ${contenders.map((c) => c.name).join(' | ')} | lattice / bentocache |`,
    );
    console.log(`|---|${contenders.map(() => '---:').join('|')}|---:|`);
    for (const s of scenarios) {
      const row = contenders.map((c) => fmt(ops(s.name, c.name)));
      const ratio = ops(s.name, 'lattice') / ops(s.name, 'bentocache');
      console.log(`| ${s.name} | ${row.join(' | ')} | ${ratio.toFixed(2)}× |`);
    }
    console.log('\ntarget: lattice ≥ bentocache on every row (ratio ≥ 1.00×)');
  } finally {
    for (const c of contenders) await c.close().catch(() => undefined);
    await server.dispose();
  }
}

void main();
