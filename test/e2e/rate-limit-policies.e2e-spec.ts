import { setTimeout as sleep } from 'node:timers/promises';
import { startTestRedis, type TestRedis } from '@lattice/testing';
import { LimiterWorker, type LimiterAnswer } from '../fixtures/rate-limit/limiter-worker.process';

/**
 * Named policies of every kind decided by two app instances, each a process
 * of its own with its own connection, over the Redis under test (one
 * redis-server, or the three-master cluster in e2e-cluster): stacking, cost,
 * shadow and penalties hold exactly across them, with the draft's header
 * syntax, and the environment's policies still work. (Overrides changed at
 * run time: rate-limit-overrides.e2e-spec.ts.)
 */
describe('rate-limit policies across two limiter processes', () => {
  let redis: TestRedis;
  let a: LimiterWorker;
  let b: LimiterWorker;
  let clients = 0;
  const nextIp = () => `198.51.100.${++clients}`;

  /** `count` requests, one at a time, alternating between the two processes. */
  async function alternate(count: number, uses: unknown[], ip: string): Promise<LimiterAnswer[]> {
    const answers: LimiterAnswer[] = [];
    for (let i = 0; i < count; i++) answers.push(await (i % 2 ? b : a).ask(uses, ip));
    return answers;
  }

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = { ...redis.env, RATE_LIMIT_IP: '2/60' };
    [a, b] = await Promise.all([LimiterWorker.start(env), LimiterWorker.start(env)]);
  });

  afterAll(async () => {
    await Promise.all([a, b].map((worker) => worker?.stop()));
    await redis?.dispose();
  });

  it('stacks policies: admitted only while each admits, every one in the headers, the refusing one named', async () => {
    const answers = await alternate(4, ['burst', 'hourly'], nextIp());
    expect(answers.map((x) => x.allowed)).toEqual([true, true, true, false]);
    expect(answers[0].headers).toEqual({
      'RateLimit-Policy': '"burst";q=3;w=60, "hourly";q=5;w=3600',
      RateLimit: '"burst";r=2;t=60, "hourly";r=4;t=3600',
    });
    expect(answers[3].code).toBe('RATE_LIMITED');
    expect(answers[3].message).toMatch(
      /^Too many requests \(rate limit "burst"\); retry in \d+ s$/,
    );
    expect(answers[3].headers['RateLimit']).toMatch(/^"burst";r=0;t=\d+, "hourly";r=\d;t=\d+$/);
    expect(Number(answers[3].headers['Retry-After'])).toBeGreaterThan(0);
  });

  it('counts a costly request whole, exactly across the processes', async () => {
    const answers = await alternate(5, ['search'], nextIp());
    // 10 units, 3 a request: three fit (9), the fourth would not.
    expect(answers.map((x) => x.allowed)).toEqual([true, true, true, false, false]);
    expect(answers[2].headers['RateLimit']).toMatch(/^"search";r=1;t=\d+$/);
    const cheap = await a.ask([{ policy: 'search', cost: 1 }], nextIp());
    expect(cheap.headers['RateLimit']).toMatch(/^"search";r=9;t=\d+$/);
  });

  it('never refuses for a shadow policy and leaves it out of the headers', async () => {
    const answers = await alternate(4, ['trial', 'wide'], nextIp());
    expect(answers.map((x) => x.allowed)).toEqual([true, true, true, true]);
    const trial = answers.map((x) => x.decisions.find((d) => d.name === 'trial')!);
    expect(trial.map((d) => d.allowed)).toEqual([true, true, false, false]);
    expect(answers[3].headers).toEqual({
      'RateLimit-Policy': '"wide";q=100;w=60',
      RateLimit: '"wide";r=96;t=60',
    });
  });

  it('blocks a key for its penalty after a refusal, on both processes, until it expires', async () => {
    const ip = nextIp();
    const first = await alternate(3, ['guarded'], ip);
    expect(first.map((x) => x.allowed)).toEqual([true, true, false]);
    expect(first[2].headers['Retry-After']).toBe('4');
    // The window (1 s) is over, the block (4 s) is not: still refused, by the other process too.
    await sleep(1_500);
    const blocked = await b.ask(['guarded'], ip);
    expect(blocked.allowed).toBe(false);
    const retryAfter = Number(blocked.headers['Retry-After']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    // Once the block ends, the key is admitted again, by both.
    await sleep(retryAfter * 1000 + 300);
    expect((await b.ask(['guarded'], ip)).allowed).toBe(true);
    expect((await a.ask(['guarded'], ip)).allowed).toBe(true);
  });

  it('keeps RATE_LIMIT_IP as the ip policy', async () => {
    const answers = await alternate(3, ['ip'], nextIp());
    expect(answers.map((x) => x.allowed)).toEqual([true, true, false]);
    expect(answers[0].headers['RateLimit-Policy']).toBe('"ip";q=2;w=60');
  });
});
