import { AppProcess, callJson, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';

jest.setTimeout(120_000);

const PREFIX = 'e2e:';
const ADMIN = { login: 'root', password: 'root-password-1' };
const PASSWORD = 'correct horse battery';

const call = callJson;

/**
 * Run-time rate-limit overrides as an operator uses them: set through one
 * gateway's admin API, in force on the other gateway, exact across both.
 */
describe('rate-limit overrides across two gateways', () => {
  let redis: TestRedis;
  let auth: AppProcess;
  let one: AppProcess;
  let two: AppProcess;
  let admin: { token: string; id: string };

  const override = (app: AppProcess, selector: string, body: unknown, token = admin.token) =>
    call(app, 'PUT', `/api/rate-limits/overrides/user/${encodeURIComponent(selector)}`, {
      body,
      token,
    });
  const policyOn = async (app: AppProcess, token: string) =>
    (await call(app, 'GET', '/api/ping', { token })).headers.get('ratelimit-policy');

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = {
      ...redis.env,
      KEY_PREFIX: PREFIX,
      RATE_LIMIT_USER: '6/60',
      ADMIN_LOGIN: ADMIN.login,
      ADMIN_PASSWORD: ADMIN.password,
    };
    auth = await AppProcess.start('auth', env);
    const upstreams = { AUTH_URL: auth.url(''), REALTIME_URL: 'http://127.0.0.1:9' };
    [one, two] = await Promise.all([
      AppProcess.start('gateway', { ...env, ...upstreams }),
      AppProcess.start('gateway', { ...env, ...upstreams }),
    ]);
    for (const app of [auth, one, two]) {
      await waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200);
    }
    const login = await waitFor('the admin account', async () => {
      const answer = await call(auth, 'POST', '/auth/login', { body: ADMIN });
      return answer.status === 200 ? answer.body! : undefined;
    });
    admin = { token: login.token as string, id: (login.user as { id: string }).id };
  });

  afterAll(async () => {
    await Promise.all([one, two, auth].map((p) => p?.kill()));
    await redis?.dispose();
  });

  it('sets a limit for one user on one gateway, in force on both, exactly; removes it; refuses bad input', async () => {
    // The admin's own budget first: in force on `one` before the answer, on `two` moments later.
    const raised = await override(one, `user:${admin.id}`, { limit: 1000 });
    expect(raised).toMatchObject({
      status: 200,
      body: { policy: 'user', selector: `user:${admin.id}`, limit: 1000 },
    });
    expect(await policyOn(one, admin.token)).toBe('"user";q=1000;w=60');
    await waitFor(
      'two to apply it',
      async () => (await policyOn(two, admin.token)) === '"user";q=1000;w=60',
    );

    const signUp = async (login: string) => {
      const registered = await call(one, 'POST', '/auth/register', {
        body: { login, name: login, password: PASSWORD },
      });
      expect(registered.status).toBe(201);
      const answer = await call(two, 'POST', '/auth/login', {
        body: { login, password: PASSWORD },
      });
      return { token: answer.body!.token as string, id: (answer.body!.user as { id: string }).id };
    };
    const [tiered, plain] = [await signUp('tiered'), await signUp('plain')];

    // Only admins: anonymous 401, a signed-in user 403.
    expect((await call(two, 'GET', '/api/rate-limits/overrides')).status).toBe(401);
    expect(
      (await call(two, 'GET', '/api/rate-limits/overrides', { token: plain.token })).status,
    ).toBe(403);
    expect((await override(two, `user:${tiered.id}`, { limit: 1 }, plain.token)).status).toBe(403);

    // Lower one user's limit to 3 on `one`; a later change of the admin's, once seen on
    // `two`, shows `two` has read the table since.
    expect((await override(one, `user:${tiered.id}`, { limit: 3 })).status).toBe(200);
    expect((await override(one, `user:${admin.id}`, { limit: 999 })).status).toBe(200);
    await waitFor(
      'two to read the table again',
      async () => (await policyOn(two, admin.token)) === '"user";q=999;w=60',
    );

    // Three across both gateways, then refused; another user keeps the declared 6.
    const hits: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await call(i % 2 ? one : two, 'GET', '/api/ping', { token: tiered.token });
      hits.push([
        answer.status,
        answer.headers.get('ratelimit-policy'),
        answer.headers.get('ratelimit')?.replace(/;t=\d+$/, ''),
      ]);
    }
    expect(hits).toEqual([
      [200, '"user";q=3;w=60', '"user";r=2'],
      [200, '"user";q=3;w=60', '"user";r=1'],
      [200, '"user";q=3;w=60', '"user";r=0'],
      [429, '"user";q=3;w=60', '"user";r=0'],
      [429, '"user";q=3;w=60', '"user";r=0'],
    ]);
    expect(await policyOn(one, plain.token)).toBe('"user";q=6;w=60');
    const userId = tiered.id;

    const stored = await redis.client().hgetall(`${PREFIX}ratelimit:overrides`);
    expect(stored).toEqual({
      [`user|user:${admin.id}`]: '{"limit":999}',
      [`user|user:${userId}`]: '{"limit":3}',
    });
    const listed = await call(two, 'GET', '/api/rate-limits/overrides', { token: admin.token });
    expect(listed.body!.overrides).toHaveLength(2);

    // Removed: the declared limit (6) applies again, on both.
    const path = `/api/rate-limits/overrides/user/${encodeURIComponent(`user:${userId}`)}`;
    expect((await call(two, 'DELETE', path, { token: admin.token })).status).toBe(204);
    expect((await call(one, 'DELETE', path, { token: admin.token })).body).toMatchObject({
      statusCode: 404,
      code: 'NOT_FOUND',
    });
    await waitFor(
      'the declared limit again on one',
      async () => (await policyOn(one, tiered.token)) === '"user";q=6;w=60',
    );
    expect(await redis.client().hkeys(`${PREFIX}ratelimit:overrides`)).toEqual([
      `user|user:${admin.id}`,
    ]);

    // Bad input: 400 with the contract's body, nothing stored.
    for (const [selector, body] of [
      ['team:x', { limit: 1 }],
      ['role:x', { limit: 0 }],
      ['role:x', { limit: 1, factor: 2 }],
      ['role:x', {}],
      ['role:x', { factor: 5000 }],
    ] as const) {
      const refused = await override(one, selector, body);
      expect([selector, refused.status, refused.body!.code]).toEqual([
        selector,
        400,
        'VALIDATION_FAILED',
      ]);
    }
    expect(await redis.client().hlen(`${PREFIX}ratelimit:overrides`)).toBe(1);
  });
});
