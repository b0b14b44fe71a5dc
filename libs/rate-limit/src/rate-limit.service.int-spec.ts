import { Logger } from '@nestjs/common';
import { MetricsService } from '@lattice/observability';
import { RedisService } from '@lattice/redis';
import { RedisServer, sleep, startPlatform, waitFor } from '@lattice/testing';
import { loginRateLimitKey } from './client-ip';
import { RateLimitModule } from './rate-limit.module';
import { RateLimitService } from './rate-limit.service';
import type {
  RateLimitDecision,
  RateLimitModuleOptions,
  RateLimitRequest,
} from './rate-limit.types';

jest.setTimeout(60_000);

interface Instance {
  limiter: RateLimitService;
  redis: RedisService;
  /** Its metrics, as GET /metrics shows them. */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

let instances: Instance[] = [];

async function closeInstances(): Promise<void> {
  const closing = instances;
  instances = [];
  await Promise.all(closing.map((i) => i.close()));
}

/** One app's limiter (RateLimitModule built by Nest): its own Redis connection, as a separate process would have. */
async function instance(
  server: RedisServer,
  env: Record<string, string> = {},
  options: RateLimitModuleOptions & { waitForRedis?: boolean } = {},
): Promise<Instance> {
  const { waitForRedis = true, ...moduleOptions } = options;
  const platform = await startPlatform({
    env: { REDIS_URL: server.url, KEY_PREFIX: 'it:', ...env },
    imports: [RateLimitModule.forRoot(moduleOptions)],
  });
  const created: Instance = {
    limiter: platform.get(RateLimitService),
    redis: platform.get(RedisService),
    metrics: async () => (await platform.get(MetricsService).render()).body,
    close: () => platform.close(),
  };
  instances.push(created);
  // Built before Redis connects (as in an app), it decides in process until its probe answers.
  if (waitForRedis) {
    await waitFor('the limiter on Redis', () => created.limiter.usingRedis);
  }
  return created;
}

/** A metric's value in the text format (a series without labels), NaN when absent. */
function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

async function timed<T>(
  call: () => Promise<T>,
): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/** EVALSHA/EVAL calls Redis has run so far, from INFO commandstats. */
async function scriptCalls(server: RedisServer): Promise<number> {
  const raw = server.client();
  try {
    const info = await raw.info('commandstats');
    let total = 0;
    for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) {
      total += Number(match[1]);
    }
    return total;
  } finally {
    raw.disconnect();
  }
}

let counter = 0;
const fresh = (name = 'test'): Omit<RateLimitRequest, 'limit' | 'windowSeconds'> => ({
  name,
  key: `k${++counter}`,
});

beforeAll(() => Logger.overrideLogger(['error']));

afterAll(() => {
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
});

describe('RateLimitService against a real redis-server', () => {
  let server: RedisServer;
  let a: RateLimitService;
  let b: RateLimitService;

  beforeAll(async () => {
    server = await RedisServer.start();
    // These tests are about the algorithm, not the deadline: a loaded CI machine can
    // stall Redis past 50 ms, and a call that misses it is decided in process.
    const patient = { redisTimeoutMs: 2000 };
    a = (await instance(server, {}, patient)).limiter;
    b = (await instance(server, {}, patient)).limiter;
  });

  afterAll(async () => {
    await closeInstances();
    await server?.dispose();
  });

  it.each(['exact', 'approximate'] as const)(
    '%s: two instances admit exactly the limit out of many concurrent calls',
    async (algorithm) => {
      const policy = { ...fresh(), limit: 150, windowSeconds: 60, algorithm };
      const decisions = await Promise.all(
        Array.from({ length: 600 }, (_, i) => (i % 2 ? a : b).consume(policy)),
      );
      const admitted = decisions.filter((d) => d.allowed);
      expect(admitted).toHaveLength(150);
      // Each admission saw its own place in the window.
      expect(new Set(admitted.map((d) => d.remaining)).size).toBe(150);
      expect(Math.min(...admitted.map((d) => d.remaining))).toBe(0);
      for (const refused of decisions.filter((d) => !d.allowed)) {
        expect(refused).toMatchObject({ remaining: 0, limit: 150, windowSeconds: 60 });
        expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(61);
      }
    },
  );

  it('decides calls made together (one script call) each on its own policy and key', async () => {
    const policies = [
      { ...fresh(), limit: 7, windowSeconds: 60 },
      { ...fresh(), limit: 3, windowSeconds: 30, algorithm: 'approximate' as const },
      { ...fresh('other'), limit: 11, windowSeconds: 10 },
    ];
    const calls = Array.from({ length: 300 }, (_, i) => policies[i % 3]);
    const decisions = await Promise.all(calls.map((p) => a.consume(p)));
    policies.forEach((policy, n) => {
      const mine = decisions.filter((_, i) => i % 3 === n);
      expect(mine.filter((d) => d.allowed)).toHaveLength(policy.limit);
      expect(
        mine.every((d) => d.name === policy.name && d.windowSeconds === policy.windowSeconds),
      ).toBe(true);
    });
  });

  it.each(['exact', 'approximate'] as const)(
    '%s: slides, so requests pass again one by one as old ones leave the window, not all at once',
    async (algorithm) => {
      // The approximate window may hold a request one bucket (4000 / 60 ms) longer.
      const slack = algorithm === 'exact' ? 0 : 1;
      const policy = { ...fresh(), limit: 3, windowSeconds: 4, algorithm };
      expect((await a.consume(policy)).allowed).toBe(true);
      // Times below are from just after the first admission, so that one lies at or before 0.
      const started = Date.now();
      const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
      await at(1500);
      expect((await b.consume(policy)).allowed).toBe(true);
      await at(3000);
      const third = await a.consume(policy);
      expect(third).toMatchObject({ allowed: true, remaining: 0 });
      // The oldest admission leaves the window within the next second.
      expect(third.resetSeconds).toBeGreaterThanOrEqual(1);
      expect(third.resetSeconds).toBeLessThanOrEqual(1 + slack);

      const refused = await b.consume(policy);
      expect(refused).toMatchObject({ allowed: false, remaining: 0 });
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(1 + slack);
      await at(4300);
      // One slot came back (the first request aged out), not the whole limit.
      const again = await Promise.all([a.consume(policy), b.consume(policy), a.consume(policy)]);
      expect(again.filter((d) => d.allowed)).toHaveLength(1);
      const refusedAgain = again.find((d) => !d.allowed)!;
      // The next slot frees when the request made at 1.5 s ages out, at 5.5 s.
      expect(refusedAgain.retryAfterSeconds).toBe(2);
      await at(5900);
      expect((await b.consume(policy)).allowed).toBe(true);
      expect((await a.consume(policy)).allowed).toBe(false);
    },
  );

  it('exact: drops every admission that left the window, however many, and none that did not', async () => {
    const policy = { ...fresh(), limit: 100, windowSeconds: 3 };
    const started = Date.now();
    const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
    // More old admissions than the script reads from the counter's tail at once.
    await Promise.all(Array.from({ length: 40 }, () => a.consume(policy)));
    await at(1500);
    await Promise.all(Array.from({ length: 10 }, () => b.consume(policy)));
    await at(3200);
    // The first 40 have left the window, the 10 made at 1.5 s have not.
    expect(await a.consume(policy)).toMatchObject({ allowed: true, remaining: 89 });
    const raw = server.client();
    try {
      expect(await raw.llen(`it:ratelimit:log:${policy.name}:${policy.key}`)).toBe(11);
    } finally {
      raw.disconnect();
    }
  });

  it('stores each counter under KEY_PREFIX with a TTL of the window, so nothing is left behind', async () => {
    const raw = server.client();
    try {
      await a.consume({ name: 'ttl', key: 'ip:203.0.113.9', limit: 5, windowSeconds: 2 });
      await a.consume({
        name: 'ttl',
        key: 'ip:203.0.113.9',
        limit: 5,
        windowSeconds: 2,
        algorithm: 'approximate',
      });
      const log = 'it:ratelimit:log:ttl:ip:203.0.113.9';
      const buckets = 'it:ratelimit:buckets:ttl:ip:203.0.113.9';
      expect(await raw.type(log)).toBe('list');
      expect(await raw.type(buckets)).toBe('hash');
      for (const key of [log, buckets]) {
        const ttl = await raw.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(2100);
      }
      await waitFor(
        'the counters to expire',
        async () => (await raw.exists(log, buckets)) === 0,
        5000,
      );
    } finally {
      raw.disconnect();
    }
  });

  it('answers keys known to be over their limit in process, without a Redis call, until their reset', async () => {
    const policy = { ...fresh(), limit: 5, windowSeconds: 2 };
    for (let i = 0; i < 5; i++) expect((await a.consume(policy)).allowed).toBe(true);
    expect((await a.consume(policy)).allowed).toBe(false);
    const before = await scriptCalls(server);
    const flood = await Promise.all(Array.from({ length: 2000 }, () => a.consume(policy)));
    expect(flood.every((d) => !d.allowed && d.retryAfterSeconds >= 1)).toBe(true);
    expect(await scriptCalls(server)).toBe(before);
    // Once the window has moved on, the key passes again.
    await sleep(2100);
    expect((await a.consume(policy)).allowed).toBe(true);
  });

  it('limits login attempts per (client address, lower-cased login)', async () => {
    const login = (ip: string, name: string) =>
      a.consume({ name: 'login', key: loginRateLimitKey(ip, name), limit: 10, windowSeconds: 300 });
    const tries: RateLimitDecision[] = [];
    for (let i = 0; i < 11; i++) tries.push(await login('198.51.100.7', i % 2 ? 'Alice' : 'alice'));
    expect(tries.slice(0, 10).every((d) => d.allowed)).toBe(true);
    expect(tries[10]).toMatchObject({
      allowed: false,
      name: 'login',
      limit: 10,
      windowSeconds: 300,
    });
    expect(tries[10].retryAfterSeconds).toBeGreaterThan(290);
    expect((await login('198.51.100.7', 'bob')).allowed).toBe(true);
    expect((await login('198.51.100.8', 'alice')).allowed).toBe(true);
  });

  it('approximate: keeps a constant number of fields whatever the limit', async () => {
    const policy = {
      ...fresh(),
      limit: 100_000,
      windowSeconds: 3,
      algorithm: 'approximate' as const,
    };
    const started = Date.now();
    while (Date.now() - started < 1500) {
      await Promise.all(Array.from({ length: 200 }, () => a.consume(policy)));
    }
    const raw = server.client();
    try {
      const fields = await raw.hlen(`it:ratelimit:buckets:${policy.name}:${policy.key}`);
      expect(fields).toBeLessThanOrEqual(60 + 1 + 2);
    } finally {
      raw.disconnect();
    }
  });
});

describe('RateLimitService while Redis is in trouble', () => {
  let server: RedisServer;

  beforeEach(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await closeInstances();
    await server?.dispose();
  });

  it('fail open: decides in process without waiting, then goes back to Redis without replaying anything', async () => {
    const { limiter: a } = await instance(server, { RATE_LIMIT_FAIL: 'open' });
    const { limiter: b } = await instance(server, { RATE_LIMIT_FAIL: 'open' });
    const policy = { name: 'outage', key: 'ip:192.0.2.1', limit: 5, windowSeconds: 60 };
    expect((await a.consume(policy)).allowed).toBe(true);

    await server.stop();
    const during = [];
    for (let i = 0; i < 8; i++) during.push(await timed(() => a.consume(policy)));
    // Each instance limits on its own: 5 pass, then refusals, every answer at once.
    expect(during.map((t) => t.value?.allowed)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    // Bounds generous for a loaded 2-core machine; a queued Redis call would take seconds.
    for (const t of during) expect(t.ms).toBeLessThan(250);
    expect(a.usingRedis).toBe(false);

    await server.restart();
    await waitFor('instance a to use Redis again', async () => {
      await a.consume({ ...policy, key: 'probe' });
      return a.usingRedis;
    });
    await waitFor('instance b to use Redis again', async () => {
      await b.consume({ ...policy, key: 'probe' });
      return b.usingRedis;
    });
    // Redis came back empty and counts only what happened since: nothing sent during
    // the outage was queued and replayed after the reconnect.
    expect(await a.consume(policy)).toMatchObject({ allowed: true, remaining: 4 });
    expect(await b.consume(policy)).toMatchObject({ allowed: true, remaining: 3 });
  });

  it('fail closed: refuses with UNAVAILABLE at once, keeps answering known refusals, and recovers', async () => {
    const { limiter } = await instance(server, { RATE_LIMIT_FAIL: 'closed' });
    const over = { name: 'closed', key: 'over', limit: 1, windowSeconds: 60 };
    await limiter.consume(over);
    expect((await limiter.consume(over)).allowed).toBe(false);

    await server.stop();
    const policy = { name: 'closed', key: 'ip:192.0.2.2', limit: 5, windowSeconds: 60 };
    for (let i = 0; i < 5; i++) {
      const t = await timed(() => limiter.consume(policy));
      expect(t.error).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
      expect(t.ms).toBeLessThan(250);
    }
    // A key already known to be over its limit is still refused as such, not with a 503.
    expect(await limiter.consume(over)).toMatchObject({ allowed: false });

    await server.restart();
    await waitFor(
      'the limiter to use Redis again',
      async () => (await limiter.consume(policy).catch(() => null))?.allowed === true,
    );
  });

  it('a Redis that hangs costs a request at most the timeout, once; then none until it answers', async () => {
    const { limiter } = await instance(server, { RATE_LIMIT_FAIL: 'open' }, { redisTimeoutMs: 50 });
    const policy = { name: 'hang', key: 'ip:192.0.2.3', limit: 1000, windowSeconds: 60 };
    expect((await limiter.consume(policy)).allowed).toBe(true);

    const raw = server.client();
    try {
      // Redis stops answering (the connection stays up): the worst case for a client.
      await raw.client('PAUSE', 1500, 'ALL');
      const first = await Promise.all(
        Array.from({ length: 20 }, () => timed(() => limiter.consume(policy))),
      );
      // Each waited the 50 ms deadline (together), not the connection's 2 s command timeout.
      for (const t of first) {
        expect(t.value?.allowed).toBe(true);
        expect(t.ms).toBeLessThan(500);
      }
      // Then the circuit is open: no waiting at all.
      const next = [];
      for (let i = 0; i < 20; i++) next.push(await timed(() => limiter.consume(policy)));
      expect(Math.max(...next.map((t) => t.ms))).toBeLessThan(100);
      expect(next.filter((t) => t.ms < 5).length).toBeGreaterThanOrEqual(15);
      expect(limiter.usingRedis).toBe(false);

      await waitFor(
        'the limiter to use Redis again',
        async () => {
          await limiter.consume(policy);
          return limiter.usingRedis;
        },
        10_000,
      );
    } finally {
      raw.disconnect();
    }
  });
});

describe('lattice_rate_limit_fallbacks_total: every decision taken without Redis, start-up included', () => {
  let server: RedisServer;

  beforeEach(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await closeInstances();
    await server?.dispose();
  });

  const FALLBACKS = 'lattice_rate_limit_fallbacks_total';
  const FALLBACK = 'lattice_rate_limit_fallback';

  it('fail open: counts a start that decides in memory, once, then each later outage', async () => {
    await server.stop();
    // Started while Redis is down: the connection is not up, the limiter decides in memory.
    const starting = await instance(server, { RATE_LIMIT_FAIL: 'open' }, { waitForRedis: false });
    expect(starting.limiter.usingRedis).toBe(false);
    // No decision yet: nothing was decided without Redis, nothing is counted.
    expect(metric(await starting.metrics(), FALLBACKS)).toBe(0);

    const policy = { name: 'starting', key: 'ip:192.0.2.10', limit: 2, windowSeconds: 60 };
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await starting.limiter.consume(policy)).allowed);
    expect(allowed).toEqual([true, true, false]);
    let text = await starting.metrics();
    expect(metric(text, FALLBACKS)).toBe(1);
    expect(metric(text, FALLBACK)).toBe(1);
    expect(text).toMatch(
      /^lattice_rate_limit_decisions_total\{policy="starting",outcome="allowed",source="memory"\} 2$/m,
    );

    await server.restart();
    await waitFor('the limiter on Redis', () => starting.limiter.usingRedis, 15_000);
    expect(await starting.limiter.consume(policy)).toMatchObject({ allowed: true, remaining: 1 });
    text = await starting.metrics();
    // One start, one fallback, however many decisions it took.
    expect(metric(text, FALLBACKS)).toBe(1);
    expect(metric(text, FALLBACK)).toBe(0);

    // An outage after the start counts as before.
    await server.stop();
    expect((await starting.limiter.consume({ ...policy, key: 'ip:192.0.2.11' })).allowed).toBe(
      true,
    );
    text = await starting.metrics();
    expect(metric(text, FALLBACKS)).toBe(2);
    expect(metric(text, FALLBACK)).toBe(1);
  });

  it('fail closed: counts a start that answers 503 without Redis', async () => {
    await server.stop();
    const starting = await instance(server, { RATE_LIMIT_FAIL: 'closed' }, { waitForRedis: false });
    const policy = { name: 'starting', key: 'ip:192.0.2.12', limit: 5, windowSeconds: 60 };
    for (let i = 0; i < 3; i++) {
      await expect(starting.limiter.consume(policy)).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        status: 503,
      });
    }
    const text = await starting.metrics();
    expect(metric(text, FALLBACKS)).toBe(1);
    expect(metric(text, FALLBACK)).toBe(1);
  });

  it('counts nothing for a start whose connection came up before its first decision', async () => {
    const { limiter, metrics } = await instance(server, { RATE_LIMIT_FAIL: 'open' });
    const policy = { name: 'started', key: 'ip:192.0.2.13', limit: 5, windowSeconds: 60 };
    expect(await limiter.consume(policy)).toMatchObject({ allowed: true, remaining: 4 });
    const text = await metrics();
    expect(metric(text, FALLBACKS)).toBe(0);
    expect(metric(text, FALLBACK)).toBe(0);
    expect(text).toMatch(
      /^lattice_rate_limit_decisions_total\{policy="started",outcome="allowed",source="redis"\} 1$/m,
    );
  });
});

describe('RateLimitService with leases (RATE_LIMIT_LEASE_MS)', () => {
  const LEASE_MS = 200;
  let server: RedisServer;
  let a: RateLimitService;
  let b: RateLimitService;

  beforeAll(async () => {
    server = await RedisServer.start();
    const env = { RATE_LIMIT_LEASE_MS: String(LEASE_MS) };
    const patient = { redisTimeoutMs: 2000 };
    a = (await instance(server, env, patient)).limiter;
    b = (await instance(server, env, patient)).limiter;
  });

  afterAll(async () => {
    await closeInstances();
    await server?.dispose();
  });

  /** Sequential calls until one is refused: what is left of the limit. */
  async function drain(limiter: RateLimitService, policy: RateLimitRequest): Promise<number> {
    let admitted = 0;
    while ((await limiter.consume(policy)).allowed) admitted++;
    return admitted;
  }

  it('decides busy counters from leases, and gives back what a lease did not use', async () => {
    const policy = { ...fresh(), limit: 10_000, windowSeconds: 60 };
    const before = await scriptCalls(server);
    let requests = 0;
    let admitted = 0;
    for (let round = 0; round < 40; round++) {
      const decisions = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).consume(policy)),
      );
      requests += decisions.length;
      admitted += decisions.filter((d) => d.allowed).length;
    }
    expect(admitted).toBe(requests);
    // Most requests were taken from leases, without a script call of their own.
    expect((await scriptCalls(server)) - before).toBeLessThan(requests / 5);
    // A burst on `a` starts one more lease, which nothing uses.
    const burst = await Promise.all(Array.from({ length: 10 }, () => a.consume(policy)));
    admitted += burst.filter((d) => d.allowed).length;
    // Once every lease has ended, the counter holds the admissions made and nothing more.
    await sleep(LEASE_MS + 100);
    expect((await b.consume(policy)).remaining).toBe(policy.limit - admitted - 1);
  });

  it('never admits more than the limit from many concurrent calls on two instances', async () => {
    const policy = { ...fresh(), limit: 640, windowSeconds: 60 };
    let admitted = 0;
    for (let round = 0; round < 20; round++) {
      const decisions = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).consume(policy)),
      );
      admitted += decisions.filter((d) => d.allowed).length;
    }
    expect(admitted).toBeLessThanOrEqual(policy.limit);
    await sleep(LEASE_MS + 100);
    expect(admitted + (await drain(b, policy))).toBe(policy.limit);
  });

  it('leases only while the window is less than half used, then decides each request in Redis', async () => {
    const policy = { ...fresh(), limit: 640, windowSeconds: 60 };
    // Busy on `a` up to past half the limit, then once more: a burst that would start a lease.
    let used = 0;
    const burst = async () => {
      const decisions = await Promise.all(Array.from({ length: 20 }, () => a.consume(policy)));
      used += decisions.filter((d) => d.allowed).length;
    };
    while (used < 400) await burst();
    await burst();
    // ...so `a` holds nothing back: without waiting for any lease to end, `b` gets exactly the rest.
    expect(await drain(b, policy)).toBe(policy.limit - used);
  });

  it('counts a leased admission in the window until the lease ends, never less than its request', async () => {
    const policy = { ...fresh(), limit: 640, windowSeconds: 1 };
    // 10 admitted now, and a lease of 10 more, stamped with the lease's end (200 ms).
    const burst = await Promise.all(Array.from({ length: 10 }, () => a.consume(policy)));
    expect(burst.every((d) => d.allowed)).toBe(true);
    const started = Date.now();
    const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
    await at(150);
    // Used late in the lease: these requests are admitted about 150 ms after the burst.
    for (let i = 0; i < 10; i++) expect((await a.consume(policy)).allowed).toBe(true);
    await at(1100);
    // The burst has left the window; the late requests have not, and still count.
    expect((await b.consume(policy)).remaining).toBe(policy.limit - 10 - 1);
  });

  it('an instance that shuts down gives its unused leased admissions back at once', async () => {
    const policy = { ...fresh(), limit: 6400, windowSeconds: 60 };
    const decisions = await Promise.all(Array.from({ length: 40 }, () => a.consume(policy)));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    // One request more is taken from the lease the burst started, in process.
    const before = await scriptCalls(server);
    expect((await a.consume(policy)).allowed).toBe(true);
    expect(await scriptCalls(server)).toBe(before);
    await a.beforeApplicationShutdown();
    // Well before the lease ends, the counter holds only the 41 admissions made.
    const raw = server.client();
    try {
      expect(await raw.llen(`it:ratelimit:log:${policy.name}:${policy.key}`)).toBe(41);
    } finally {
      raw.disconnect();
    }
    expect((await b.consume(policy)).remaining).toBe(policy.limit - 42);
  });
});
