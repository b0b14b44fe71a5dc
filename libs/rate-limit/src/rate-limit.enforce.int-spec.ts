import {
  RedisServer,
  sleep,
  startPlatform,
  waitFor,
  type PlatformInstance,
} from '@lattice/testing';
import { RateLimitedError } from './rate-limit.errors';
import { RateLimitModule } from './rate-limit.module';
import { RateLimitOverrides } from './rate-limit.overrides';
import { RateLimitService } from './rate-limit.service';
import type {
  RateLimitDecision,
  RateLimitPolicy,
  RateLimitSubject,
  RateLimitUse,
} from './rate-limit.types';

jest.setTimeout(60_000);

/**
 * RateLimitService.enforce on two instances (each its own Redis connection,
 * as two app processes have) over one real redis-server: every new kind of
 * policy is exact across them.
 */
const POLICIES: RateLimitPolicy[] = [
  { name: 'burst', limit: 3, window: 1 },
  { name: 'hourly', limit: 5, window: 3600 },
  { name: 'search', limit: 10, window: 60, cost: 3 },
  { name: 'upload', limit: 100, window: 60 },
  { name: 'trial', limit: 2, window: 60, shadow: true },
  { name: 'guarded', limit: 2, window: 1, block: 3 },
  { name: 'buckets', limit: 10, window: 60, algorithm: 'approximate', cost: 4 },
  { name: 'sized', limit: 100, window: 60, cost: (request) => Number(request.headers['x-size']) },
];

let server: RedisServer;
let closing: PlatformInstance[] = [];

async function instance(env: Record<string, string> = {}): Promise<RateLimitService> {
  return (await tieredInstance(env)).limiter;
}

/** An instance with its run-time overrides, read from Redis and followed over pub/sub. */
async function tieredInstance(
  env: Record<string, string> = {},
): Promise<{ limiter: RateLimitService; overrides: RateLimitOverrides }> {
  const platform = await startPlatform({
    env: { REDIS_URL: server.url, KEY_PREFIX: 'enforce:', ...env },
    imports: [RateLimitModule.forRoot({ policies: POLICIES })],
  });
  closing.push(platform);
  const limiter = platform.get(RateLimitService);
  // Built before Redis connects (as in an app), it decides in process until its probe answers.
  await waitFor('the limiter on Redis', () => limiter.usingRedis);
  return { limiter, overrides: platform.get(RateLimitOverrides) };
}

/** A reply as enforce() writes it: the headers it set. */
function headerSink(): {
  header(name: string, value: string): void;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  return { headers, header: (name, value) => void (headers[name] = value) };
}

/** enforce() as a caller sees it: the decisions, or the refusal. */
async function outcome(
  limiter: RateLimitService,
  uses: readonly RateLimitUse[],
  ip: string,
): Promise<{
  allowed: boolean;
  decisions: readonly RateLimitDecision[];
  error?: RateLimitedError;
}> {
  try {
    return { allowed: true, decisions: await limiter.enforce(uses, { ip }) };
  } catch (error) {
    if (!(error instanceof RateLimitedError)) throw error;
    return { allowed: false, decisions: error.decisions, error };
  }
}

let client = 0;
const nextIp = () => `198.51.100.${++client}`;

beforeAll(async () => {
  server = await RedisServer.start();
});

afterEach(async () => {
  await Promise.all(closing.map((platform) => platform.close()));
  closing = [];
});

afterAll(async () => {
  await server?.dispose();
});

describe('RateLimitService.enforce across two instances', () => {
  it('stacks policies: a request passes only while every one admits it, in the draft list syntax', async () => {
    const [a, b] = [await instance(), await instance()];
    const ip = nextIp();
    const first = headerSink();
    await a.enforce(['burst', 'hourly'], { ip }, first);
    expect(first.headers).toEqual({
      'RateLimit-Policy': '"burst";q=3;w=1, "hourly";q=5;w=3600',
      RateLimit: '"burst";r=2;t=1, "hourly";r=4;t=3600',
    });
    // Three at once across the instances: the burst policy admits two more, then refuses.
    const burst = await Promise.all([
      outcome(b, ['burst', 'hourly'], ip),
      outcome(a, ['burst', 'hourly'], ip),
      outcome(b, ['burst', 'hourly'], ip),
    ]);
    expect(burst.filter((o) => o.allowed)).toHaveLength(2);
    const refused = burst.find((o) => !o.allowed)!;
    expect(refused.error!.message).toMatch(
      /^Too many requests \(rate limit "burst"\); retry in 1 s$/,
    );
    const sink = headerSink();
    await expect(a.enforce(['burst', 'hourly'], { ip }, sink)).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    expect(sink.headers['RateLimit-Policy']).toBe('"burst";q=3;w=1, "hourly";q=5;w=3600');
    expect(sink.headers['RateLimit']).toMatch(/^"burst";r=0;t=1, "hourly";r=\d;t=3600$/);

    // A request refused by one policy has still used the others (they are decided side by
    // side, not all or nothing): hourly counted all five, so after the burst window it refuses.
    await sleep(1100);
    const later = await outcome(b, ['burst', 'hourly'], ip);
    expect(later.allowed).toBe(false);
    expect(later.error!.message).toContain('rate limit "hourly"');
    expect(later.decisions.find((d) => d.name === 'burst')!.allowed).toBe(true);
  });

  it('counts a request by its cost, whole or not at all, exactly across instances', async () => {
    const [a, b] = [await instance(), await instance()];
    const ip = nextIp();
    // search: 10 units per minute, 3 a request: three requests pass (9 units), the fourth does not.
    const searches = await Promise.all(
      Array.from({ length: 6 }, (_, i) => outcome(i % 2 ? a : b, ['search'], ip)),
    );
    expect(searches.filter((o) => o.allowed)).toHaveLength(3);
    // A call may weigh a request itself: the unit left passes, a second does not.
    expect((await outcome(a, [{ policy: 'search', cost: 1 }], ip)).allowed).toBe(true);
    const last = await outcome(b, [{ policy: 'search', cost: 1 }], ip);
    expect(last.allowed).toBe(false);
    expect(last.decisions[0]).toMatchObject({ remaining: 0, limit: 10 });

    // An upload weighed by its size: 60 + 40 fit in 100, then 1 more does not.
    const upload = (limiter: RateLimitService, cost: number) =>
      outcome(limiter, [{ policy: 'upload', cost }], ip);
    expect((await upload(a, 60)).decisions[0].remaining).toBe(40);
    expect((await upload(b, 41)).allowed).toBe(false);
    expect((await upload(b, 40)).allowed).toBe(true);
    expect((await upload(a, 1)).allowed).toBe(false);
    // A cost above the limit never passes; an invalid cost is a programming error.
    expect((await upload(a, 101)).allowed).toBe(false);
    await expect(a.enforce([{ policy: 'upload', cost: 0 }], { ip })).rejects.toThrow(TypeError);

    // A cost made from the request: weighed exactly; out of range, the caller's error (400).
    const sized = (size: string) =>
      a.enforce(['sized'], { ip, headers: { 'x-size': size } } as unknown as RateLimitSubject);
    expect((await sized('70'))[0].remaining).toBe(30);
    await expect(sized('31')).rejects.toBeInstanceOf(RateLimitedError);
    await expect(sized('1e12')).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });

    // The approximate algorithm weighs too: 4 + 4 fit in 10, 4 more do not.
    const buckets = await Promise.all(
      Array.from({ length: 3 }, (_, i) => outcome(i % 2 ? a : b, ['buckets'], ip)),
    );
    expect(buckets.filter((o) => o.allowed)).toHaveLength(2);
  });

  it('never refuses for a shadow policy, but counts and reports it', async () => {
    const [a, b] = [await instance(), await instance()];
    const ip = nextIp();
    const results = [];
    for (let i = 0; i < 6; i++) {
      const sink = headerSink();
      const decisions = await (i % 2 ? a : b).enforce(['trial', 'upload'], { ip }, sink);
      results.push({ decisions, headers: sink.headers });
    }
    const trial = results.map((r) => r.decisions.find((d) => d.name === 'trial')!);
    // Counted across both instances: the third and later would have been refused.
    expect(trial.map((d) => d.allowed)).toEqual([true, true, false, false, false, false]);
    expect(trial.every((d) => d.shadow === true)).toBe(true);
    // Clients see only the policies that are enforced.
    expect(results[5].headers['RateLimit-Policy']).toBe('"upload";q=100;w=60');
    expect(results[5].headers['RateLimit']).toBe('"upload";r=94;t=60');
    expect(results[5].headers['Retry-After']).toBeUndefined();
  });

  it('blocks a key for the penalty after a refusal, with Retry-After telling the truth, until it expires', async () => {
    const [a, b] = [await instance(), await instance()];
    const ip = nextIp();
    expect((await outcome(a, ['guarded'], ip)).allowed).toBe(true);
    expect((await outcome(b, ['guarded'], ip)).allowed).toBe(true);
    const refused = await outcome(a, ['guarded'], ip);
    expect(refused.allowed).toBe(false);
    const sink = headerSink();
    await expect(b.enforce(['guarded'], { ip }, sink)).rejects.toBeInstanceOf(RateLimitedError);
    expect(Number(sink.headers['Retry-After'])).toBe(3);
    // The window (1 s) has passed, the block (3 s) has not: still refused, also by an
    // instance that never saw a refusal of its own (so only Redis's block can refuse).
    const c = await instance();
    await sleep(1500);
    const blocked = await outcome(c, ['guarded'], ip);
    expect(blocked.allowed).toBe(false);
    expect(blocked.decisions[0].retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(blocked.decisions[0].retryAfterSeconds).toBeLessThanOrEqual(2);
    // Once the block ends, the key is admitted again, by the other instance too.
    await sleep(blocked.decisions[0].retryAfterSeconds * 1000 + 100);
    expect((await outcome(a, ['guarded'], ip)).allowed).toBe(true);
    expect((await outcome(b, ['guarded'], ip)).allowed).toBe(true);
  });

  it('keeps the environment variables as the ip, user and login policies', async () => {
    const env = { RATE_LIMIT_IP: '2/60', RATE_LIMIT_USER: '3/60', RATE_LIMIT_LOGIN: '1/300' };
    const [a, b] = [await instance(env), await instance(env)];
    const ip = nextIp();
    const user = { id: `u${client}` };
    expect(a.defaultPolicies({ ip })).toEqual(['ip']);
    expect(a.defaultPolicies({ ip, user })).toEqual(['user']);
    const anonymous = [];
    for (let i = 0; i < 3; i++) anonymous.push((await outcome(i % 2 ? a : b, ['ip'], ip)).allowed);
    expect(anonymous).toEqual([true, true, false]);
    const signedIn = [];
    for (let i = 0; i < 4; i++) {
      signedIn.push(
        await (i % 2 ? a : b).enforce(['user'], { ip, user }).then(
          () => true,
          () => false,
        ),
      );
    }
    expect(signedIn).toEqual([true, true, true, false]);
    const login = (limiter: RateLimitService) =>
      limiter.enforce([{ policy: 'login', key: `${ip}:alice` }], { ip }).then(
        (decisions) => decisions[0].limit,
        (error: RateLimitedError) => error.decision.name,
      );
    expect(await login(a)).toBe(1);
    expect(await login(b)).toBe('login');
  });

  it('refuses at start a name declared twice, and at use a name never declared', async () => {
    await expect(
      startPlatform({
        env: { REDIS_URL: server.url },
        imports: [RateLimitModule.forRoot({ policies: [{ name: 'ip', limit: 1, window: 1 }] })],
      }),
    ).rejects.toThrow('rate limit policy "ip" is declared twice');
    const a = await instance();
    await expect(a.enforce(['nope'], { ip: nextIp() })).rejects.toThrow(
      'rate limit policy "nope" is not declared',
    );
  });

  it('applies overrides by key, user and role, changed at run time and exact across instances', async () => {
    const [a, b] = [await tieredInstance(), await tieredInstance()];
    const ip = nextIp();
    const partner = { id: `p${client}`, roles: ['member', 'partner'] };
    const member = { id: `m${client}`, roles: ['member'] };
    /** Another partner, whose requests the waits below may use up. */
    const probe = { id: `q${client}`, roles: ['partner'] };
    const limitOf = (i: typeof a, user: typeof member) =>
      i.limiter.enforce(['hourly'], { ip, user: { ...user } }).then(
        (decisions) => decisions[0].limit,
        (error: RateLimitedError) => error.decision.limit,
      );
    expect(await limitOf(b, probe)).toBe(5);

    // Set on one instance, in force on the other within moments; on the first before the answer.
    await a.overrides.set({ policy: 'hourly', selector: 'role:partner', factor: 2 });
    expect(await limitOf(a, partner)).toBe(10);
    await waitFor('the override on b', async () => (await limitOf(b, probe)) === 10);
    expect(await limitOf(b, member)).toBe(5);

    // Exact across instances at the new limit: ten in the hour (one used above), then refused.
    const hits = [];
    for (let i = 0; i < 11; i++) {
      const sink = headerSink();
      hits.push(
        await (i % 2 ? a : b).limiter.enforce(['hourly'], { ip, user: partner }, sink).then(
          () => sink.headers['RateLimit-Policy'],
          () => 'refused',
        ),
      );
    }
    expect(hits).toEqual([...Array(9).fill('"hourly";q=10;w=3600'), 'refused', 'refused']);

    // More specific wins: a user's own override over its roles, a counter's over the user's.
    await b.overrides.set({ policy: 'hourly', selector: `user:${probe.id}`, limit: 20 });
    await waitFor('the user override on a', async () => (await limitOf(a, probe)) === 20);
    await a.overrides.set({ policy: 'hourly', selector: `key:user:${probe.id}`, limit: 30 });
    await waitFor('the key override on b', async () => (await limitOf(b, probe)) === 30);
    expect(await a.overrides.list()).toEqual([
      { policy: 'hourly', selector: `key:user:${probe.id}`, limit: 30 },
      { policy: 'hourly', selector: 'role:partner', factor: 2 },
      { policy: 'hourly', selector: `user:${probe.id}`, limit: 20 },
    ]);

    // An instance that starts later reads them at start; a removal reaches every instance.
    const c = await tieredInstance();
    await waitFor('c to read the overrides', async () => (await limitOf(c, probe)) === 30);
    expect(await b.overrides.delete('hourly', `key:user:${probe.id}`)).toBe(true);
    expect(await b.overrides.delete('hourly', `key:user:${probe.id}`)).toBe(false);
    await waitFor('the removal on c', async () => (await limitOf(c, probe)) === 20);
    await expect(
      a.overrides.set({ policy: 'hourly', selector: 'team:x', limit: 1 }),
    ).rejects.toThrow('selector must be');
    await expect(
      a.overrides.set({ policy: 'hourly', selector: 'role:x', limit: 1, factor: 2 }),
    ).rejects.toThrow('either limit or factor');
  });
});
