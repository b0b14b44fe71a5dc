import {
  AppProcess,
  callJson,
  sleep,
  startTestRedis,
  waitFor,
  type TestRedis,
} from '@lattice/testing';

interface Json {
  [key: string]: unknown;
}

/** callJson with the session also sendable as a cookie, as browsers send it. */
const call = (
  app: AppProcess,
  method: string,
  path: string,
  { cookie, ...options }: Parameters<typeof callJson>[3] & { cookie?: string } = {},
) =>
  callJson(app, method, path, {
    ...options,
    headers: cookie ? { ...options.headers, cookie } : options.headers,
  });

describe('accounts and shared sessions across two auth instances', () => {
  let redis: TestRedis;
  let one: AppProcess;
  let two: AppProcess;
  const env = () => ({
    ...redis.env,
    RATE_LIMIT_LOGIN: '5/60',
    ALLOWED_ORIGINS: 'https://app.example.com',
    COOKIE_SECURE: 'true',
    ADMIN_LOGIN: 'root',
    ADMIN_PASSWORD: 'root-password-1',
  });

  beforeAll(async () => {
    redis = await startTestRedis();
    [one, two] = await Promise.all([
      AppProcess.start('auth', env()),
      AppProcess.start('auth', env()),
    ]);
    await Promise.all(
      [one, two].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all([one, two].map((p) => p?.kill()));
    await redis?.dispose();
  });

  async function registerAndLogin(login: string, on = one) {
    const registered = await call(on, 'POST', '/auth/register', {
      body: { login, name: `${login} name`, password: 'password-123' },
    });
    expect(registered.status).toBe(201);
    const loggedIn = await call(on, 'POST', '/auth/login', {
      body: { login, password: 'password-123' },
    });
    expect(loggedIn.status).toBe(200);
    return {
      registered: registered.body as Json,
      login: loggedIn.body as Json,
      headers: loggedIn.headers,
    };
  }

  it('registers and logs in on one instance and is known on the other', async () => {
    const { registered, login, headers } = await registerAndLogin('Grace');
    expect(registered).toEqual({
      id: expect.any(String),
      login: 'Grace',
      name: 'Grace name',
      signup: expect.any(String),
    });
    const token = login.token as string;
    expect(token).toMatch(/^\d+-[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(login.user).toEqual({
      id: registered.id,
      login: 'Grace',
      name: 'Grace name',
      roles: [],
      signup: registered.signup,
      followers: 0,
      following: 0,
      posts: 0,
    });
    const cookie = headers.get('set-cookie')!;
    expect(cookie).toContain(`sid=${token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Secure/);

    const me = await call(two, 'GET', '/auth/me', { token });
    expect(me.status).toBe(200);
    expect((me.body as Json).user).toEqual(login.user);
    const byCookie = await call(two, 'GET', '/auth/me', { cookie: `theme=dark; sid=${token}` });
    expect(byCookie.status).toBe(200);
  });

  it('stores the profile in the contract layout, the password hashed elsewhere', async () => {
    const { registered } = await registerAndLogin('Layout_Check');
    const raw = redis.client();
    const id = registered.id as string;
    expect(await raw.hget('users:', 'layout_check')).toBe(id);
    expect(Number(await raw.get('user:id:'))).toBeGreaterThanOrEqual(Number(id));
    const profile = await raw.hgetall(`user:${id}`);
    expect(Object.keys(profile).sort()).toEqual([
      'followers',
      'following',
      'gen',
      'id',
      'login',
      'name',
      'posts',
      'signup',
    ]);
    expect(profile).toMatchObject({
      login: 'Layout_Check',
      id,
      followers: '0',
      following: '0',
      posts: '0',
      // The account's generation (README, Redis layout): random, never the same for two accounts.
      gen: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
    });
    // On a cluster the password shares the profile's slot (README, Redis Cluster hash tags).
    const password = redis.mode === 'cluster' ? `{user:${id}}:password` : `user:${id}:password`;
    expect(await raw.get(password)).toMatch(/^\$argon2id\$/);
    raw.disconnect();
  });

  it('logs out on one instance and is refused on the other within 100 ms', async () => {
    const { login } = await registerAndLogin('Lin');
    const token = login.token as string;
    expect((await call(two, 'GET', '/auth/me', { token })).status).toBe(200); // cached on two
    expect((await call(one, 'POST', '/auth/logout', { token })).status).toBe(204);
    const loggedOutAt = Date.now();
    await waitFor(
      'two to refuse',
      async () => (await call(two, 'GET', '/auth/me', { token })).status === 401,
      2000,
      5,
    );
    expect(Date.now() - loggedOutAt).toBeLessThan(100);
    const refused = await call(two, 'GET', '/auth/me', { token });
    expect(refused.body).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
  });

  it('gives exactly one 201 and the rest 409 for concurrent registrations of one login in any case', async () => {
    const attempts = await Promise.all(
      ['Turing', 'TURING', 'turing', 'TuRiNg', 'turinG', 'TURing'].map((login, i) =>
        call(i % 2 ? two : one, 'POST', '/auth/register', {
          body: { login, name: 'A', password: 'password-123' },
        }),
      ),
    );
    expect(attempts.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(attempts.find((a) => a.status === 409)!.body).toMatchObject({ code: 'CONFLICT' });
    const raw = redis.client();
    const id = await raw.hget('users:', 'turing');
    const ids = new Set<string>();
    for (let i = 1; i <= Number(await raw.get('user:id:')); i++) {
      const login = await raw.hget(`user:${i}`, 'login');
      if (login?.toLowerCase() === 'turing') ids.add(String(i));
    }
    expect([...ids]).toEqual([id]);
    raw.disconnect();
  });

  it('answers an unknown login and a wrong password alike', async () => {
    await registerAndLogin('Hopper');
    const wrong = await call(one, 'POST', '/auth/login', {
      body: { login: 'Hopper', password: 'not-the-password' },
    });
    const unknown = await call(one, 'POST', '/auth/login', {
      body: { login: 'nobody-here', password: 'not-the-password' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (b: unknown) => ({ ...(b as Json), requestId: undefined });
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('takes about as long for an unknown login as for a wrong password', async () => {
    await registerAndLogin('Timing');
    const time = async (login: string) => {
      const started = process.hrtime.bigint();
      await call(one, 'POST', '/auth/login', {
        body: { login, password: 'wrong-password' },
        headers: { 'x-forwarded-for': login },
      });
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await time('Timing'));
      unknown.push(await time(`ghost${i}`));
    }
    // Both are dominated by one Argon2id verification.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    expect(median(unknown)).toBeLessThan(median(known) * 2);
  });

  it('limits login attempts per (IP, login) with RATE_LIMIT_LOGIN', async () => {
    await registerAndLogin('Brute');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const app = i % 2 ? two : one;
      statuses.push(
        (
          await call(app, 'POST', '/auth/login', {
            body: { login: 'BRUTE', password: `guess-${i}-xx` },
          })
        ).status,
      );
    }
    // Every attempt counts, the successful login above included: 5 per (IP, login).
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429]);
    const limited = await call(one, 'POST', '/auth/login', {
      body: { login: 'brute', password: 'password-123' },
    });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another login from the same IP is not affected.
    expect(
      (
        await call(one, 'POST', '/auth/login', {
          body: { login: 'Hopper', password: 'password-123' },
        })
      ).status,
    ).toBe(200);
  });

  it('lists sessions, revokes one, and revokes all but the current one', async () => {
    const { login: first } = await registerAndLogin('Multi');
    const second = (
      await call(two, 'POST', '/auth/login', {
        body: { login: 'multi', password: 'password-123' },
        headers: { 'user-agent': 'phone' },
      })
    ).body as Json;
    const third = (
      await call(one, 'POST', '/auth/login', { body: { login: 'multi', password: 'password-123' } })
    ).body as Json;
    const listed = (await call(two, 'GET', '/auth/sessions', { token: first.token as string }))
      .body as unknown as Json[];
    expect(listed).toHaveLength(3);
    expect(listed.filter((s) => s.current)).toHaveLength(1);
    expect(listed.find((s) => s.current)!.id).toBe((first.session as Json).id);
    expect(listed.find((s) => s.id === (second.session as Json).id)).toMatchObject({
      userAgent: 'phone',
      ip: '127.0.0.1',
    });
    expect(Object.keys(listed[0]).sort()).toEqual([
      'createdAt',
      'current',
      'expiresAt',
      'id',
      'ip',
      'lastSeenAt',
      'userAgent',
    ]);

    const secondId = (second.session as Json).id as string;
    expect(
      (await call(one, 'DELETE', `/auth/sessions/${secondId}`, { token: first.token as string }))
        .status,
    ).toBe(204);
    expect((await call(two, 'GET', '/auth/me', { token: second.token as string })).status).toBe(
      401,
    );
    expect(
      (await call(one, 'DELETE', `/auth/sessions/${secondId}`, { token: first.token as string }))
        .status,
    ).toBe(404);

    // Someone else's session: 404, and it survives.
    const { login: stranger } = await registerAndLogin('Stranger');
    const strangerId = (stranger.session as Json).id as string;
    expect(
      (await call(one, 'DELETE', `/auth/sessions/${strangerId}`, { token: first.token as string }))
        .status,
    ).toBe(404);
    expect((await call(two, 'GET', '/auth/me', { token: stranger.token as string })).status).toBe(
      200,
    );

    expect(
      (
        await call(two, 'POST', '/auth/logout-all', {
          token: third.token as string,
          body: { keepCurrent: true },
        })
      ).status,
    ).toBe(204);
    expect((await call(one, 'GET', '/auth/me', { token: first.token as string })).status).toBe(401);
    expect((await call(one, 'GET', '/auth/me', { token: third.token as string })).status).toBe(200);
    expect(
      (await call(two, 'POST', '/auth/logout-all', { token: third.token as string })).status,
    ).toBe(204);
    expect((await call(one, 'GET', '/auth/me', { token: third.token as string })).status).toBe(401);
  });

  it('has exactly one admin after two instances started at once, who can end anyone’s sessions', async () => {
    const raw = redis.client();
    const adminId = await raw.hget('users:', 'root');
    expect(adminId).not.toBeNull();
    let roots = 0;
    for (let i = 1; i <= Number(await raw.get('user:id:')); i++) {
      if ((await raw.hget(`user:${i}`, 'login'))?.toLowerCase() === 'root') roots++;
    }
    expect(roots).toBe(1);
    raw.disconnect();

    const admin = (
      await call(two, 'POST', '/auth/login', {
        body: { login: 'root', password: 'root-password-1' },
      })
    ).body as Json;
    expect((admin.user as Json).roles).toEqual(['admin']);
    const { login: victim } = await registerAndLogin('Victim');
    const victimId = (victim.user as Json).id as string;
    const listed = (
      await call(one, 'GET', `/auth/users/${victimId}/sessions`, { token: admin.token as string })
    ).body as unknown as Json[];
    expect(listed.map((s) => s.id)).toEqual([(victim.session as Json).id]);
    expect(
      (
        await call(one, 'POST', `/auth/users/${victimId}/logout-all`, {
          token: admin.token as string,
        })
      ).status,
    ).toBe(204);
    expect((await call(two, 'GET', '/auth/me', { token: victim.token as string })).status).toBe(
      401,
    );
    // A non-admin may not.
    const { login: plain } = await registerAndLogin('Plain');
    const forbidden = await call(one, 'GET', `/auth/users/${victimId}/sessions`, {
      token: plain.token as string,
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses a cookie-authenticated unsafe request from a foreign origin', async () => {
    const { login } = await registerAndLogin('Origin');
    const cookie = `sid=${login.token as string}`;
    const evil = await call(one, 'POST', '/auth/logout', {
      cookie,
      headers: { origin: 'https://evil.example' },
    });
    expect(evil.status).toBe(403);
    expect(evil.body).toMatchObject({ code: 'FORBIDDEN' });
    expect((await call(two, 'GET', '/auth/me', { cookie })).status).toBe(200);
    // Bearer tokens are not sent by browsers on their own, so Origin does not matter for them.
    const bearer = await call(one, 'POST', '/auth/logout-all', {
      token: login.token as string,
      body: { keepCurrent: true },
      headers: { origin: 'https://evil.example' },
    });
    expect(bearer.status).toBe(204);
    const allowed = await call(one, 'POST', '/auth/logout', {
      cookie,
      headers: { origin: 'https://app.example.com' },
    });
    expect(allowed.status).toBe(204);
  });

  it('refuses bad input with clear 400s', async () => {
    const cases: [unknown, RegExp][] = [
      [{ login: 'ab', name: 'x', password: 'password-123' }, /login/],
      [{ login: 'bad login!', name: 'x', password: 'password-123' }, /login/],
      [{ login: 'okay', name: 'x', password: 'short' }, /password/],
      [{ login: 'okay', name: '', password: 'password-123' }, /name/],
      [{ login: 'okay', name: 'x'.repeat(101), password: 'password-123' }, /name/],
      [{ login: 'okay', name: 'x', password: 'password-123', admin: true }, /admin/],
    ];
    for (const [body, field] of cases) {
      const res = await call(one, 'POST', '/auth/register', { body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((res.body as Json).message).toMatch(field);
    }
  });
});

describe('session expiry by TTL', () => {
  let redis: TestRedis;
  let app: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    app = await AppProcess.start('auth', {
      ...redis.env,
      SESSION_IDLE_TTL: '2',
      SESSION_ABSOLUTE_TTL: '5',
    });
    await waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200);
  });

  afterAll(async () => {
    await app?.kill();
    await redis?.dispose();
  });

  it('ends an unused session after SESSION_IDLE_TTL and a used one after SESSION_ABSOLUTE_TTL', async () => {
    await call(app, 'POST', '/auth/register', {
      body: { login: 'sleepy', name: 'S', password: 'password-123' },
    });
    const login = async () =>
      (
        await call(app, 'POST', '/auth/login', {
          body: { login: 'sleepy', password: 'password-123' },
        })
      ).body as Json;
    const idle = await login();
    const busy = await login();
    const startedAt = Date.now();
    const raw = redis.client();
    const key = (await redis.keys('session:*')).find((k) =>
      k.endsWith((idle.session as Json).id as string),
    )!;
    expect(await raw.pttl(key)).toBeLessThanOrEqual(2000);
    raw.disconnect();

    let idleEndedAt = 0;
    let busyEndedAt = 0;
    while (!busyEndedAt && Date.now() - startedAt < 10_000) {
      const busyStatus = (await call(app, 'GET', '/auth/me', { token: busy.token as string }))
        .status;
      if (busyStatus === 401) busyEndedAt = Date.now();
      if (!idleEndedAt && Date.now() - startedAt > 2500) {
        expect((await call(app, 'GET', '/auth/me', { token: idle.token as string })).status).toBe(
          401,
        );
        idleEndedAt = Date.now();
      }
      await sleep(250);
    }
    expect(idleEndedAt).toBeGreaterThan(0);
    // Kept alive by use well past the idle TTL, then ended by the absolute one.
    expect(busyEndedAt - startedAt).toBeGreaterThan(4000);
    expect(busyEndedAt - startedAt).toBeLessThan(6500);
  });
});
