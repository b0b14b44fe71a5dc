import { Controller, Get } from '@nestjs/common';
import { Public } from '@lattice/common';
import { RedisServer, waitFor } from '../../../test/harness';
import { startTestApp, type TestApp } from '../../../test/fixtures/test-app';

jest.setTimeout(60_000);

/** A route limited by the default `ip` policy. */
@Public()
@Controller('limited')
class LimitedController {
  @Get()
  get(): { ok: true } {
    return { ok: true };
  }
}

interface Report {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details?: Record<string, Record<string, unknown>>;
  code?: string;
}

async function readiness(t: TestApp): Promise<{ status: number; body: Report }> {
  const res = await fetch(t.url('/health/ready'));
  return { status: res.status, body: (await res.json()) as Report };
}

async function metrics(t: TestApp): Promise<string> {
  return (await fetch(t.url('/metrics'))).text();
}

/** A metric's value in the text format (a series without labels), NaN when absent. */
function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('readiness reports the rate limiter (in process, real Redis)', () => {
  let redis: RedisServer;
  let apps: TestApp[] = [];

  const start = async (env: Record<string, string>, server = redis): Promise<TestApp> => {
    const t = await startTestApp({
      env: { REDIS_URL: server.url, RATE_LIMIT_IP: '100/60', ...env },
      controllers: [LimitedController],
    });
    apps.push(t);
    return t;
  };
  const startReady = async (env: Record<string, string>): Promise<TestApp> => {
    const t = await start(env);
    await waitFor('ready, the limiter on Redis', async () => {
      const { status, body } = await readiness(t);
      return status === 200 && body.details?.rateLimit?.mode === 'redis';
    });
    return t;
  };

  /**
   * Redis holds write commands (as during a failover) for a second: the
   * limiter's script call misses its 50 ms deadline and the request is decided
   * without Redis, while a PING still answers once the pause is over. Nothing
   * probes the limiter's circuit until the next limited request, so its state
   * stays put for the test to read.
   */
  async function decideWithoutRedis(t: TestApp): Promise<Response> {
    const raw = redis.client();
    try {
      await raw.client('PAUSE', 1000, 'WRITE');
      return await fetch(t.url('/limited'));
    } finally {
      raw.disconnect();
    }
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterEach(async () => {
    await Promise.all(apps.map((t) => t.close()));
    apps = [];
  });

  afterAll(async () => {
    await redis?.dispose();
  });

  it('on Redis: 200, status ok, rateLimit up in mode redis', async () => {
    const t = await startReady({ RATE_LIMIT_FAIL: 'open' });
    expect((await fetch(t.url('/limited'))).status).toBe(200);
    const { status, body } = await readiness(t);
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'ok',
      info: {
        redis: { status: 'up', maxmemoryPolicy: 'noeviction' },
        rateLimit: { status: 'up', mode: 'redis', failMode: 'open' },
      },
      error: {},
      details: {
        redis: { status: 'up', maxmemoryPolicy: 'noeviction' },
        rateLimit: { status: 'up', mode: 'redis', failMode: 'open' },
      },
    });
  });

  it('fail open: stays 200 while the limiter counts in memory, degraded with mode memory, then ok again', async () => {
    const t = await startReady({ RATE_LIMIT_FAIL: 'open' });
    const before = Date.now();
    expect((await decideWithoutRedis(t)).status).toBe(200);

    // Readiness's PING waits behind the paused call on the same connection, then answers.
    const { body } = await waitFor('ready', async () => {
      const answer = await readiness(t);
      return answer.status === 200 && answer;
    });
    const rateLimit = {
      status: 'degraded',
      mode: 'memory',
      failMode: 'open',
      since: expect.stringMatching(ISO_TIME),
      warning: expect.stringMatching(/counts only its own requests/),
    };
    expect(body).toEqual({
      status: 'degraded',
      info: { redis: expect.objectContaining({ status: 'up' }), rateLimit },
      error: {},
      details: { redis: expect.objectContaining({ status: 'up' }), rateLimit },
    });
    expect(Date.parse(body.details!.rateLimit.since as string)).toBeGreaterThanOrEqual(
      before - 1000,
    );
    const text = await metrics(t);
    expect(metric(text, 'lattice_rate_limit_fallbacks_total')).toBe(1);
    expect(metric(text, 'lattice_rate_limit_fallback')).toBe(1);
    expect(text).toMatch(
      /^lattice_rate_limit_decisions_total\{policy="ip",outcome="allowed",source="memory"\} 1$/m,
    );

    // The next limited request probes Redis; the limiter goes back to it, and readiness says so.
    await waitFor('the limiter on Redis again', async () => {
      await fetch(t.url('/limited'));
      const answer = await readiness(t);
      return answer.status === 200 && answer.body.status === 'ok';
    });
    expect((await readiness(t)).body.details?.rateLimit).toEqual({
      status: 'up',
      mode: 'redis',
      failMode: 'open',
    });
  });

  it('fail closed: stays 200 while limited requests get 503, degraded with mode unavailable', async () => {
    const t = await startReady({ RATE_LIMIT_FAIL: 'closed' });
    const refused = await decideWithoutRedis(t);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'UNAVAILABLE' });

    const { body } = await waitFor('ready', async () => {
      const answer = await readiness(t);
      return answer.status === 200 && answer;
    });
    expect(body.status).toBe('degraded');
    expect(body.error).toEqual({});
    expect(body.details?.rateLimit).toEqual({
      status: 'degraded',
      mode: 'unavailable',
      failMode: 'closed',
      since: expect.stringMatching(ISO_TIME),
      warning: expect.stringMatching(/503/),
    });
    expect(metric(await metrics(t), 'lattice_rate_limit_fallbacks_total')).toBe(1);
  });

  it('a start without Redis: 503 as the contract says, the decisions meanwhile counted, then ok once Redis answers', async () => {
    const late = await RedisServer.start();
    try {
      await late.stop();
      const t = await start({ RATE_LIMIT_FAIL: 'open' }, late);
      // Decided in memory: the connection has never been up.
      expect((await fetch(t.url('/limited'))).status).toBe(200);
      const notReady = await readiness(t);
      expect(notReady).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE' } });
      let text = await metrics(t);
      expect(metric(text, 'lattice_rate_limit_fallbacks_total')).toBe(1);
      expect(metric(text, 'lattice_rate_limit_fallback')).toBe(1);
      expect(text).toMatch(
        /^lattice_rate_limit_decisions_total\{policy="ip",outcome="allowed",source="memory"\} 1$/m,
      );

      await late.restart();
      // No request needed: the limiter's own probes find Redis.
      await waitFor(
        'ready, the limiter on Redis',
        async () => {
          const { status, body } = await readiness(t);
          return status === 200 && body.status === 'ok';
        },
        15_000,
      );
      text = await metrics(t);
      expect(metric(text, 'lattice_rate_limit_fallbacks_total')).toBe(1);
      expect(metric(text, 'lattice_rate_limit_fallback')).toBe(0);
    } finally {
      await Promise.all(apps.map((t) => t.close()));
      apps = [];
      await late.dispose();
    }
  });
});
