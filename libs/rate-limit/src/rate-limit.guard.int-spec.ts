import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  Req,
  Res,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '@lattice/common';
import {
  loginRateLimitKey,
  RateLimit,
  RateLimitService,
  SkipRateLimit,
  type RateLimitedUser,
  type RateLimitPolicy,
} from '@lattice/rate-limit';
import { RedisServer, waitFor } from '../../../test/harness';
import { startTestApp, type TestApp } from '../../../test/fixtures/test-app';

/** An app as a load balancer sees it: started, and sent traffic once it is ready. */
async function startReadyApp(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
  const t = await startTestApp(options);
  try {
    await waitFor(
      'the app to be ready',
      async () => (await fetch(t.url('/health/ready'))).status === 200,
    );
  } catch (error) {
    await t.close();
    throw error;
  }
  return t;
}

jest.setTimeout(60_000);

/** The named policies of the probe routes. */
const PROBE_POLICIES: RateLimitPolicy[] = [
  { name: 'own', limit: 2, window: 30 },
  { name: 'shared', limit: 3, window: 30 },
  { name: 'by-ip', limit: 2, window: 30, key: 'ip' },
  {
    name: 'tenant',
    limit: 2,
    window: 30,
    key: (request: FastifyRequest) => {
      const tenant = request.headers['x-tenant'];
      return typeof tenant === 'string' ? `tenant:${tenant}` : undefined;
    },
  },
  { name: 'but-this', limit: 1, window: 30 },
];

// The apps' auth guard lets anonymous callers through only to @Public routes.
@Public()
@Controller('probe')
class ProbeController {
  @Get('default')
  byDefault(): { ok: true } {
    return { ok: true };
  }

  @Get('skipped')
  @SkipRateLimit()
  skipped(): { ok: true } {
    return { ok: true };
  }

  @Get('own')
  @RateLimit('own')
  own(): { ok: true } {
    return { ok: true };
  }

  @Get('shared-a')
  @RateLimit('shared')
  sharedA(): { ok: true } {
    return { ok: true };
  }

  @Get('shared-b')
  @RateLimit('shared')
  sharedB(): { ok: true } {
    return { ok: true };
  }

  @Get('by-ip')
  @RateLimit('by-ip')
  byIp(): { ok: true } {
    return { ok: true };
  }

  @Get('by-tenant')
  @RateLimit('tenant')
  byTenant(): { ok: true } {
    return { ok: true };
  }

  @Get('boom')
  boom(): never {
    throw new Error('handler failed');
  }
}

@SkipRateLimit()
@Public()
@Controller('unlimited')
class UnlimitedController {
  @Get()
  open(): { ok: true } {
    return { ok: true };
  }

  @Get('but-this')
  @RateLimit('but-this')
  butThis(): { ok: true } {
    return { ok: true };
  }
}

/**
 * A login handler as the auth app writes one (LoginThrottle): the route's
 * default policy from the guard, then the login policy, through enforce().
 */
@Public()
@Controller('probe-login')
class LoginProbeController {
  constructor(private readonly limits: RateLimitService) {}

  @Post()
  async login(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: { login: string },
  ): Promise<{ ok: true }> {
    await this.limits.enforce(
      [{ policy: 'login', key: loginRateLimitKey(request.ip, body.login) }],
      request,
      reply,
    );
    return { ok: true };
  }
}

/**
 * Stands in for the session layer: it sets `request.user` before guards run,
 * from a test header, as the real session hook does from a session token.
 */
@Injectable()
class FakeSessionHook implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance() as FastifyInstance;
    fastify.addHook('onRequest', (request, _reply, done) => {
      const id = request.headers['x-test-user'];
      if (typeof id === 'string') {
        const user: RateLimitedUser = { id, login: `user${id}`, roles: [] };
        (request as FastifyRequest & { user?: RateLimitedUser }).user = user;
      }
      done();
    });
  }
}

@Module({ providers: [FakeSessionHook] })
class FakeSessionModule {}

const fakeSession = { module: FakeSessionModule };

describe('the rate-limit guard in an app (in process, real Redis)', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startReadyApp({
      env: {
        REDIS_URL: redis.url,
        RATE_LIMIT_IP: '5/60',
        RATE_LIMIT_USER: '8/60',
        RATE_LIMIT_LOGIN: '3/300',
        TRUST_PROXY: 'true',
      },
      controllers: [ProbeController, UnlimitedController, LoginProbeController],
      imports: [fakeSession],
      rateLimitPolicies: PROBE_POLICIES,
    });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.dispose();
  });

  /** Each test is its own client (its own address, through X-Forwarded-For). */
  let client = 0;
  let ip = '';
  beforeEach(() => {
    ip = `203.0.113.${++client}`;
  });
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(t.url(path), { headers: { 'x-forwarded-for': ip, ...headers } });

  it('limits every route by client address with RATE_LIMIT_IP, with the draft headers', async () => {
    const seen: { status: number; policy: string | null; state: string | null }[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await get('/probe/default');
      seen.push({
        status: res.status,
        policy: res.headers.get('ratelimit-policy'),
        state: res.headers.get('ratelimit'),
      });
      expect(res.headers.get('retry-after')).toBeNull();
    }
    expect(seen.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(seen.map((s) => s.policy))).toEqual(new Set(['"ip";q=5;w=60']));
    expect(seen.map((s) => s.state)).toEqual([
      '"ip";r=4;t=60',
      '"ip";r=3;t=60',
      '"ip";r=2;t=60',
      '"ip";r=1;t=60',
      '"ip";r=0;t=60',
    ]);

    const refused = await get('/probe/default', { 'x-request-id': 'limited-1' });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/^Too many requests \(rate limit "ip"\); retry in \d+ s$/),
      requestId: 'limited-1',
    });
    expect(refused.headers.get('ratelimit-policy')).toBe('"ip";q=5;w=60');
    expect(refused.headers.get('ratelimit')).toMatch(/^"ip";r=0;t=(59|60)$/);
    expect(refused.headers.get('retry-after')).toMatch(/^(59|60)$/);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it('sends the headers on error responses of limited routes too', async () => {
    const res = await get('/probe/boom');
    expect(res.status).toBe(500);
    expect(res.headers.get('ratelimit')).toBe('"ip";r=4;t=60');
  });

  it('limits a signed-in caller per user with RATE_LIMIT_USER, wherever they come from', async () => {
    const user = String(1000 + client);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      ip = `198.51.100.${i + 1}`;
      const res = await get('/probe/default', { 'x-test-user': user });
      statuses.push(res.status);
      if (i === 0) {
        expect(res.headers.get('ratelimit-policy')).toBe('"user";q=8;w=60');
        expect(res.headers.get('ratelimit')).toBe('"user";r=7;t=60');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    // Another user from the same address, and the address itself, have their own quotas.
    expect((await get('/probe/default', { 'x-test-user': `${user}-other` })).status).toBe(200);
    expect((await get('/probe/default')).headers.get('ratelimit')).toBe('"ip";r=4;t=60');
  });

  it('applies @RateLimit policies per route, shared by name, with method over class', async () => {
    expect((await get('/probe/own')).headers.get('ratelimit-policy')).toBe('"own";q=2;w=30');
    expect((await get('/probe/own')).status).toBe(200);
    expect((await get('/probe/own')).status).toBe(429);
    // The route's own policy replaced the default one: the address's quota is untouched.
    expect((await get('/probe/default')).headers.get('ratelimit')).toBe('"ip";r=4;t=60');

    const shared = [
      await get('/probe/shared-a'),
      await get('/probe/shared-b'),
      await get('/probe/shared-a'),
      await get('/probe/shared-b'),
    ];
    expect(shared.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(shared[3].headers.get('ratelimit-policy')).toBe('"shared";q=3;w=30');

    const classSkipped = [await get('/unlimited/but-this'), await get('/unlimited/but-this')];
    expect(classSkipped.map((r) => r.status)).toEqual([200, 429]);
  });

  it('keys a route by address or by a key function when told to', async () => {
    const byIp = [
      await get('/probe/by-ip', { 'x-test-user': 'u1' }),
      await get('/probe/by-ip', { 'x-test-user': 'u2' }),
      await get('/probe/by-ip', { 'x-test-user': 'u3' }),
    ];
    expect(byIp.map((r) => r.status)).toEqual([200, 200, 429]);

    const tenant = `acme-${client}`;
    const byTenant = [];
    for (let i = 0; i < 3; i++) {
      ip = `192.0.2.${i + 1}`;
      byTenant.push((await get('/probe/by-tenant', { 'x-tenant': tenant })).status);
    }
    expect(byTenant).toEqual([200, 200, 429]);
  });

  it('never limits @SkipRateLimit routes, health probes or metrics', async () => {
    for (let i = 0; i < 6; i++) await get('/probe/default');
    expect((await get('/probe/default')).status).toBe(429);
    for (const path of [
      '/probe/skipped',
      '/unlimited',
      '/health/live',
      '/health/ready',
      '/metrics',
    ]) {
      for (let i = 0; i < 8; i++) {
        const res = await get(path);
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit')).toBeNull();
      }
    }
  });

  it('limits login attempts per (address, lower-cased login); a 429 thrown by a handler has the headers too', async () => {
    const attempt = (login: string) =>
      fetch(t.url('/probe-login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ login }),
      });
    const answers = [];
    for (const login of ['Alice', 'alice', 'ALICE']) answers.push(await attempt(login));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    // Both policies of the request, as list items, on an admitted answer too.
    expect(answers[2].headers.get('ratelimit-policy')).toBe('"ip";q=5;w=60, "login";q=3;w=300');
    expect(answers[2].headers.get('ratelimit')).toBe('"ip";r=2;t=60, "login";r=0;t=300');
    const refused = await attempt('aLiCe');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: expect.stringContaining('(rate limit "login")'),
    });
    expect(refused.headers.get('ratelimit-policy')).toBe('"ip";q=5;w=60, "login";q=3;w=300');
    expect(refused.headers.get('ratelimit')).toMatch(/^"ip";r=1;t=60, "login";r=0;t=(299|300)$/);
    expect(refused.headers.get('retry-after')).toMatch(/^(299|300)$/);
    expect((await attempt('bob')).status).toBe(201);
  });

  it('exports decision counts in /metrics', async () => {
    await get('/probe/default');
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(
      /lattice_rate_limit_decisions_total\{policy="ip",outcome="allowed",source="redis"\} [1-9]/,
    );
    expect(text).toMatch(/lattice_rate_limit_fallback 0/);
  });
});

describe('the client address and TRUST_PROXY', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis?.dispose();
  });

  const statusesFrom = async (t: TestApp, addresses: string[]) => {
    const statuses: number[] = [];
    for (const address of addresses) {
      statuses.push(
        (await fetch(t.url('/probe/default'), { headers: { 'x-forwarded-for': address } })).status,
      );
    }
    return statuses;
  };

  it('ignores X-Forwarded-For when TRUST_PROXY=false, so a client cannot escape its limit', async () => {
    const t = await startReadyApp({
      env: { REDIS_URL: redis.url, RATE_LIMIT_IP: '2/60', KEY_PREFIX: 'untrusted:' },
      controllers: [ProbeController],
      rateLimitPolicies: PROBE_POLICIES,
    });
    try {
      expect(await statusesFrom(t, ['10.0.0.1', '10.0.0.2', '10.0.0.3'])).toEqual([200, 200, 429]);
    } finally {
      await t.close();
    }
  });

  it('keys by the forwarded client address when TRUST_PROXY=true', async () => {
    const t = await startReadyApp({
      env: {
        REDIS_URL: redis.url,
        RATE_LIMIT_IP: '2/60',
        KEY_PREFIX: 'trusted:',
        TRUST_PROXY: 'true',
      },
      controllers: [ProbeController],
      rateLimitPolicies: PROBE_POLICIES,
    });
    try {
      expect(
        await statusesFrom(t, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.1']),
      ).toEqual([200, 200, 200, 200, 429]);
      const raw = redis.client();
      try {
        expect(await raw.llen('trusted:ratelimit:log:ip:ip:10.0.0.1')).toBe(2);
      } finally {
        raw.disconnect();
      }
    } finally {
      await t.close();
    }
  });
});
