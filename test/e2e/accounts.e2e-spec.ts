import { AppProcess, callJson, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { PresenceClient } from '../fixtures/presence/presence-client';

interface Json {
  [key: string]: unknown;
}

const call = callJson;

const PASSWORD = 'password-123';

/** CONTRACT 8.2, points 1, 3 and 4 of issue 23, on two auth instances sharing one Redis. */
describe('accounts people can live with, across two auth instances', () => {
  let redis: TestRedis;
  let one: AppProcess;
  let two: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = { ...redis.env, RATE_LIMIT_LOGIN: '20/60' };
    [one, two] = await Promise.all([AppProcess.start('auth', env), AppProcess.start('auth', env)]);
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

  async function register(login: string): Promise<string> {
    const registered = await call(one, 'POST', '/auth/register', {
      body: { login, name: `${login} name`, password: PASSWORD },
    });
    expect(registered.status).toBe(201);
    return registered.body!.id as string;
  }

  async function signIn(app: AppProcess, login: string, password = PASSWORD): Promise<string> {
    const res = await call(app, 'POST', '/auth/login', { body: { login, password } });
    expect(res.status).toBe(200);
    return res.body!.token as string;
  }

  const status = async (app: AppProcess, token: string) =>
    (await call(app, 'GET', '/auth/me', { token })).status;

  const passwordKey = (id: string) =>
    redis.mode === 'cluster' ? `{user:${id}}:password` : `user:${id}:password`;

  /**
   * Every key that belongs to the user's id or login. Counters about the
   * login rather than the account (rate limits, the login lock's fence) may
   * stay, but only with a TTL: they are left out once that is checked.
   */
  async function keysOf(id: string, login: string): Promise<string[]> {
    const lower = login.toLowerCase();
    const owned = (await redis.keys('*')).filter(
      (key) =>
        new RegExp(`(^|[{:])user:${id}($|[}:])`).test(key) ||
        key.includes(`{${id}}`) ||
        key.includes(lower),
    );
    const expiring = owned.filter((key) => /^(ratelimit:|lock:\{user:)/.test(key));
    const client = redis.client();
    for (const key of expiring) expect(await client.pttl(key)).toBeGreaterThan(0);
    return owned.filter((key) => !expiring.includes(key));
  }

  describe('POST /auth/password', () => {
    it('keeps the current session, and the other sessions are refused on the other instance at once', async () => {
      const id = await register('Pat');
      const current = await signIn(one, 'Pat');
      const other = await signIn(two, 'Pat');
      expect(await status(two, other)).toBe(200); // cached on two

      const changed = await call(one, 'POST', '/auth/password', {
        token: current,
        body: { currentPassword: PASSWORD, newPassword: 'new-password-456' },
      });
      expect(changed.status).toBe(204);
      // No waiting: the answer came after every instance dropped the other session.
      expect(await status(two, other)).toBe(401);
      expect(await status(one, other)).toBe(401);
      expect(await status(two, current)).toBe(200);

      const old = await call(two, 'POST', '/auth/login', {
        body: { login: 'Pat', password: PASSWORD },
      });
      expect(old.status).toBe(401);
      await signIn(two, 'Pat', 'new-password-456');
      const stored = await redis.client().get(passwordKey(id));
      expect(stored).toMatch(/^\$argon2id\$/);
      expect(stored).not.toContain('new-password-456');
    });

    it('answers a wrong current password 401 and counts it like a failed login', async () => {
      await register('Wrongo');
      const token = await signIn(one, 'Wrongo'); // one attempt of twenty
      const answers: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await call(i % 2 ? one : two, 'POST', '/auth/password', {
          token,
          body: { currentPassword: 'not-the-password', newPassword: 'new-password-456' },
        });
        answers.push(res.status);
        if (res.status === 401) {
          expect(res.body).toMatchObject({ statusCode: 401, code: 'INVALID_CREDENTIALS' });
        }
      }
      expect(answers).toEqual([...Array<number>(19).fill(401), 429]);
      // The same budget as logins: the right password is refused now too.
      const login = await call(two, 'POST', '/auth/login', {
        body: { login: 'Wrongo', password: PASSWORD },
      });
      expect(login.status).toBe(429);
      expect(await status(one, token)).toBe(200); // nothing else happened to the session
    });

    it('refuses a new password that breaks the rules, and unknown fields', async () => {
      await register('Shorty');
      const token = await signIn(one, 'Shorty');
      for (const body of [
        { currentPassword: PASSWORD, newPassword: 'short' },
        { currentPassword: PASSWORD, newPassword: 'x'.repeat(129) },
        { currentPassword: PASSWORD },
        { currentPassword: PASSWORD, newPassword: 'new-password-456', extra: 1 },
      ]) {
        const res = await call(one, 'POST', '/auth/password', { token, body });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      }
      const unsigned = await call(one, 'POST', '/auth/password', {
        body: { currentPassword: PASSWORD, newPassword: 'new-password-456' },
      });
      expect(unsigned.status).toBe(401);
    });
  });

  describe('PATCH /auth/me', () => {
    it('renames the account, seen at once on the other instance, in the seed layout', async () => {
      const id = await register('Renee');
      const token = await signIn(one, 'Renee');
      const before = await redis.client().hgetall(`user:${id}`);
      const renamed = await call(one, 'PATCH', '/auth/me', {
        token,
        body: { name: '  Renée Ω  ' },
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toEqual({
        user: expect.objectContaining({ id, login: 'Renee', name: 'Renée Ω' }),
        session: expect.objectContaining({ id: expect.any(String) }),
      });
      const me = await call(two, 'GET', '/auth/me', { token });
      expect((me.body!.user as Json).name).toBe('Renée Ω');
      expect(await redis.client().hgetall(`user:${id}`)).toEqual({ ...before, name: 'Renée Ω' });
    });

    it('refuses unsafe, empty, over-long names and other fields with 400', async () => {
      await register('Badname');
      const token = await signIn(one, 'Badname');
      for (const body of [
        { name: 'evil\u202Etxt.exe' },
        { name: 'bell\u0007' },
        { name: '   ' },
        { name: 'x'.repeat(101) },
        { name: 'ok', login: 'other' },
        {},
      ]) {
        const res = await call(one, 'PATCH', '/auth/me', { token, body });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(((await call(one, 'GET', '/auth/me', { token })).body!.user as Json).name).toBe(
        'Badname name',
      );
    });
  });

  describe('DELETE /auth/me', () => {
    it('needs the password, then leaves no key behind, ends every session and frees the login', async () => {
      const id = await register('Dora');
      const current = await signIn(one, 'Dora');
      const other = await signIn(two, 'Dora');
      expect(await status(two, other)).toBe(200);
      // A verification challenge Dora started: it goes with the account.
      const address = `Dora${Date.now()}`;
      const started = await call(two, 'POST', '/auth/verifications', {
        token: other,
        body: {
          network: 'polkadot',
          address,
          media: [{ type: 'email', name: 'dora@example.com' }],
        },
      });
      expect(started.status).toBe(201);
      const challengeKeys = async () => [
        ...(await redis.keys(`polkadot:${address}*`)),
        ...(await redis.keys(`{polkadot:${address}}*`)),
      ];
      expect(await challengeKeys()).not.toEqual([]);
      expect(await keysOf(id, 'Dora')).not.toEqual([]);

      const wrong = await call(one, 'DELETE', '/auth/me', {
        token: current,
        body: { password: 'not-the-password' },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
      expect(await status(two, other)).toBe(200);

      const deleted = await call(one, 'DELETE', '/auth/me', {
        token: current,
        body: { password: PASSWORD },
      });
      expect(deleted.status).toBe(204);
      expect(deleted.headers.get('set-cookie')).toMatch(/^sid=;/);
      expect(await status(two, other)).toBe(401);
      expect(await status(two, current)).toBe(401);
      expect(await keysOf(id, 'Dora')).toEqual([]);
      expect(await challengeKeys()).toEqual([]);
      expect(await redis.client().hget('users:', 'dora')).toBeNull();
      const login = await call(two, 'POST', '/auth/login', {
        body: { login: 'Dora', password: PASSWORD },
      });
      expect(login.status).toBe(401);

      const again = await call(two, 'POST', '/auth/register', {
        body: { login: 'DORA', name: 'New Dora', password: 'another-password' },
      });
      expect(again.status).toBe(201);
      expect(again.body!.id).not.toBe(id);
      await signIn(one, 'dora', 'another-password');
    });

    it('leaves no session behind when logins race the deletion on the other instance', async () => {
      for (let round = 0; round < 3; round++) {
        const login = `Racer${round}`;
        const id = await register(login);
        const token = await signIn(one, login);
        const logins = Array.from({ length: 4 }, () =>
          call(two, 'POST', '/auth/login', { body: { login, password: PASSWORD } }),
        );
        const deleted = await call(one, 'DELETE', '/auth/me', {
          token,
          body: { password: PASSWORD },
        });
        expect(deleted.status).toBe(204);
        for (const res of await Promise.all(logins)) {
          expect([200, 401]).toContain(res.status);
          if (res.status === 200) {
            const raced = res.body!.token as string;
            expect(await status(one, raced)).toBe(401);
            expect(await status(two, raced)).toBe(401);
          }
        }
        expect(await keysOf(id, login)).toEqual([]);
      }
    });

    it('lets a registration racing the deletion own the login whole, or not at all', async () => {
      await register('Reggie');
      const token = await signIn(one, 'Reggie');
      const [deleted, registered] = await Promise.all([
        call(one, 'DELETE', '/auth/me', { token, body: { password: PASSWORD } }),
        call(two, 'POST', '/auth/register', {
          body: { login: 'reggie', name: 'Second', password: 'second-password' },
        }),
      ]);
      expect(deleted.status).toBe(204);
      expect([201, 409]).toContain(registered.status);
      if (registered.status === 201) {
        const id = registered.body!.id as string;
        expect(await redis.client().hget('users:', 'reggie')).toBe(id);
        await signIn(two, 'reggie', 'second-password');
      } else {
        expect(await redis.client().hget('users:', 'reggie')).toBeNull();
      }
    });

    it('answers 204 again for a repeat with the same session while it is still accepted', async () => {
      const id = await register('Twice');
      const token = await signIn(one, 'Twice');
      const both = await Promise.all([
        call(one, 'DELETE', '/auth/me', { token, body: { password: PASSWORD } }),
        call(two, 'DELETE', '/auth/me', { token, body: { password: PASSWORD } }),
      ]);
      // A repeat that arrives after the session ended is refused as any ended session is.
      for (const res of both) expect([204, 401]).toContain(res.status);
      expect(both.map((res) => res.status)).toContain(204);
      expect(await keysOf(id, 'Twice')).toEqual([]);
    });
  });
});

/** The same operations through two gateways (each with its own session cache) and a realtime app. */
describe('accounts through two gateways, with sockets open', () => {
  let redis: TestRedis;
  let authOne: AppProcess;
  let authTwo: AppProcess;
  let realtime: AppProcess;
  let gatewayOne: AppProcess;
  let gatewayTwo: AppProcess;
  const sockets: PresenceClient[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    [authOne, authTwo, realtime] = await Promise.all([
      AppProcess.start('auth', redis.env),
      AppProcess.start('auth', redis.env),
      AppProcess.start('realtime', redis.env),
    ]);
    [gatewayOne, gatewayTwo] = await Promise.all([
      AppProcess.start('gateway', {
        ...redis.env,
        AUTH_URL: authOne.url(''),
        REALTIME_URL: realtime.url(''),
      }),
      AppProcess.start('gateway', {
        ...redis.env,
        AUTH_URL: authTwo.url(''),
        REALTIME_URL: realtime.url(''),
      }),
    ]);
    await Promise.all(
      [authOne, authTwo, realtime, gatewayOne, gatewayTwo].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(
      [authOne, authTwo, realtime, gatewayOne, gatewayTwo].map((app) => app?.kill()),
    );
    await redis?.dispose();
  });

  async function signIn(gateway: AppProcess, login: string, password = PASSWORD) {
    const res = await call(gateway, 'POST', '/auth/login', { body: { login, password } });
    expect(res.status).toBe(200);
    return res.body!.token as string;
  }

  async function socketOf(token: string): Promise<PresenceClient> {
    const socket = await PresenceClient.connect(realtime.url(''), { token });
    sockets.push(socket);
    return socket;
  }

  const closed = (socket: PresenceClient) =>
    waitFor('the socket to be closed', () => !socket.connected, 1_000, 5);

  it('closes the other sessions’ sockets on a change of password, and every socket on deletion', async () => {
    const registered = await call(gatewayOne, 'POST', '/auth/register', {
      body: { login: 'Sock', name: 'Sock', password: PASSWORD },
    });
    expect(registered.status).toBe(201);
    const current = await signIn(gatewayOne, 'Sock');
    const other = await signIn(gatewayTwo, 'Sock');
    // Both gateways have the other session cached.
    for (const gateway of [gatewayOne, gatewayTwo]) {
      expect((await call(gateway, 'GET', '/auth/me', { token: other })).status).toBe(200);
    }
    const currentSocket = await socketOf(current);
    const otherSocket = await socketOf(other);

    const changed = await call(gatewayOne, 'POST', '/auth/password', {
      token: current,
      body: { currentPassword: PASSWORD, newPassword: 'new-password-456' },
    });
    expect(changed.status).toBe(204);
    for (const gateway of [gatewayTwo, gatewayOne]) {
      expect((await call(gateway, 'GET', '/auth/me', { token: other })).status).toBe(401);
    }
    await closed(otherSocket);
    expect(otherSocket.disconnectReason).toBe('io server disconnect');
    expect(currentSocket.connected).toBe(true);

    const deleted = await call(gatewayTwo, 'DELETE', '/auth/me', {
      token: current,
      body: { password: 'new-password-456' },
    });
    expect(deleted.status).toBe(204);
    for (const gateway of [gatewayOne, gatewayTwo]) {
      expect((await call(gateway, 'GET', '/auth/me', { token: current })).status).toBe(401);
    }
    await closed(currentSocket);
    await expect(
      PresenceClient.connect(realtime.url(''), { token: current }),
    ).rejects.toMatchObject({ message: 'UNAUTHENTICATED' });
  });
});
