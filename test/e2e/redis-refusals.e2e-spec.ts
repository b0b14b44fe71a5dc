import { AppProcess, callJson, RedisServer, waitFor } from '@lattice/testing';

type Json = Record<string, unknown>;
const PASSWORD = 'password-123';

/**
 * Standalone only (not in jest project e2e-cluster): it puts its own
 * redis-server into states where it refuses commands, as a real one does:
 * out of memory under `noeviction` (OOM, and EXECABORT for a MULTI), a
 * replica (READONLY), without enough replicas (NOREPLICAS), a replica whose
 * master is down (MASTERDOWN), loading its data set (LOADING), and busy with
 * a long script (BUSY). Every request that
 * needs Redis then gets 503 UNAVAILABLE, never 500, and nothing is reported
 * done that was not.
 */
describe('Redis refusing commands is unavailability, not a bug', () => {
  let redis: RedisServer;
  let admin: ReturnType<RedisServer['client']>;
  let auth: AppProcess;
  let gateway: AppProcess;
  let users = 0;

  async function call(app: AppProcess, method: string, path: string, body?: Json, token?: string) {
    const answer = await callJson(app, method, path, { body, token });
    return { status: answer.status, body: (answer.body ?? {}) as Json };
  }

  async function newUser(): Promise<{ login: string; token: string }> {
    const login = `user${++users}`;
    const registered = await call(auth, 'POST', '/auth/register', {
      login,
      name: login,
      password: PASSWORD,
    });
    expect(registered.status).toBe(201);
    const loggedIn = await call(auth, 'POST', '/auth/login', { login, password: PASSWORD });
    expect(loggedIn.status).toBe(200);
    return { login, token: loggedIn.body.token as string };
  }

  const login = (name: string) =>
    call(auth, 'POST', '/auth/login', { login: name, password: PASSWORD });
  const me = (token: string) => call(auth, 'GET', '/auth/me', undefined, token);
  const logout = (token: string) => call(auth, 'POST', '/auth/logout', undefined, token);
  const ready = async (app: AppProcess) => (await fetch(app.url('/health/ready'))).status;

  function expectUnavailable(answer: { status: number; body: Json }): void {
    expect(answer).toEqual({
      status: 503,
      body: {
        statusCode: 503,
        code: 'UNAVAILABLE',
        message: expect.any(String),
        requestId: expect.any(String),
      },
    });
    expect(answer.body.message).not.toMatch(
      /OOM|READONLY|BUSY|EXECABORT|NOREPLICAS|MASTERDOWN|LOADING|maxmemory|replica|script/i,
    );
  }

  beforeAll(async () => {
    // DEBUG RELOAD makes it load its data set again while clients are served (LOADING).
    redis = await RedisServer.start(['--enable-debug-command', 'yes']);
    admin = redis.client();
    const env = { REDIS_URL: redis.url, CACHE_SYNC_TOKEN: 'redis-refusals-token-0123456789' };
    [auth, gateway] = await Promise.all([
      AppProcess.start('auth', env),
      AppProcess.start('gateway', env),
    ]);
    await waitFor(
      'ready',
      async () => (await ready(auth)) === 200 && (await ready(gateway)) === 200,
    );
  });

  afterAll(async () => {
    admin?.disconnect();
    await Promise.all([auth?.kill(), gateway?.kill()]);
    await redis?.dispose();
  });

  describe('out of memory under noeviction', () => {
    let user: { login: string; token: string };

    beforeAll(async () => {
      user = await newUser();
      // Fill it past 1 MB, then cap it there: every write that needs memory gets OOM.
      const filler = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 40; i++) await admin.set(`filler:${i}`, filler);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1mb');
    });

    afterAll(async () => {
      await admin.config('SET', 'maxmemory', '0');
    });

    it('answers login 503 UNAVAILABLE, never 500', async () => {
      expectUnavailable(await login(user.login));
    });

    it('answers a cache-sync SET through the gateway 503 UNAVAILABLE', async () => {
      const res = await fetch(gateway.url('/api/cache/events'), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer redis-refusals-token-0123456789',
        },
        body: JSON.stringify({
          key: 'SET',
          value: { data: { key: 'k', value: 'v'.repeat(1000) } },
        }),
      });
      expectUnavailable({ status: res.status, body: (await res.json()) as Json });
    });

    it('answers logout 503 and does not report it done: the session still works', async () => {
      expectUnavailable(await logout(user.token));
      await admin.config('SET', 'maxmemory', '0');
      expect((await me(user.token)).status).toBe(200);
      expect((await logout(user.token)).status).toBe(204);
      expect((await me(user.token)).status).toBe(401);
    });

    it('keeps readiness 200: Redis still answers, and reads still work', async () => {
      await admin.config('SET', 'maxmemory', '1mb');
      expect(await ready(auth)).toBe(200);
      expect(await ready(gateway)).toBe(200);
    });
  });

  describe('a replica (READONLY)', () => {
    let primary: RedisServer;

    beforeAll(async () => {
      primary = await RedisServer.start();
    });

    afterAll(async () => {
      await admin.call('REPLICAOF', 'NO', 'ONE');
      await primary?.dispose();
    });

    it('answers login and registration 503 while Redis is a replica, and works once it is a master again', async () => {
      const user = await newUser();
      await admin.call('REPLICAOF', '127.0.0.1', String(primary.port));
      await waitFor(
        'the replica to refuse writes',
        async () =>
          await admin.set('probe', '1').then(
            () => false,
            (error: Error) => /READONLY/.test(error.message),
          ),
      );
      expectUnavailable(await login(user.login));
      expectUnavailable(
        await call(auth, 'POST', '/auth/register', {
          login: 'replica',
          name: 'R',
          password: PASSWORD,
        }),
      );
      await admin.call('REPLICAOF', 'NO', 'ONE');
      // It took the primary's (empty) data set on the way, but it takes writes again.
      await waitFor(
        'a master again',
        async () =>
          (
            await call(auth, 'POST', '/auth/register', {
              login: 'master',
              name: 'M',
              password: PASSWORD,
            })
          ).status === 201,
      );
      await newUser();
    });
  });

  describe('busy with a long script (BUSY)', () => {
    it('answers 503 while a script runs past the time limit, and works once it is killed', async () => {
      const user = await newUser();
      await admin.config('SET', 'busy-reply-threshold', '100');
      const busy = redis.client();
      const running = busy.eval('while true do end', 0).catch((error: Error) => error);
      try {
        await waitFor('Redis to be busy', async () =>
          admin.ping().then(
            () => false,
            (error: Error) => /^BUSY/.test(error.message),
          ),
        );
        expectUnavailable(await login(user.login));
        expectUnavailable(await me(user.token));
        expect(await ready(auth)).toBe(503);
      } finally {
        await admin.call('SCRIPT', 'KILL');
        await running;
        busy.disconnect();
      }
      expect((await login(user.login)).status).toBe(200);
      expect(await ready(auth)).toBe(200);
    });
  });

  describe('without enough replicas (NOREPLICAS)', () => {
    it('answers login 503 while writes need a replica it lacks, and works once they do not', async () => {
      const user = await newUser();
      await admin.config('SET', 'min-replicas-to-write', '1');
      try {
        await waitFor('Redis to refuse writes', async () =>
          admin.set('probe', '1').then(
            () => false,
            (error: Error) => /^NOREPLICAS/.test(error.message),
          ),
        );
        expectUnavailable(await login(user.login));
        expectUnavailable(await logout(user.token));
      } finally {
        await admin.config('SET', 'min-replicas-to-write', '0');
      }
      expect((await me(user.token)).status).toBe(200);
      expect((await login(user.login)).status).toBe(200);
    });
  });

  describe('a replica whose master is down (MASTERDOWN)', () => {
    it('answers 503 while it serves no stale data, and works once it is a master again', async () => {
      const user = await newUser();
      // A master that answers nothing: the replica's link to it never comes up.
      const silent = await RedisServer.start();
      await silent.kill();
      await admin.config('SET', 'replica-serve-stale-data', 'no');
      await admin.call('REPLICAOF', '127.0.0.1', String(silent.port));
      try {
        await waitFor('Redis to refuse commands', async () =>
          admin.get('probe').then(
            () => false,
            (error: Error) => /^MASTERDOWN/.test(error.message),
          ),
        );
        expectUnavailable(await login(user.login));
        expectUnavailable(await me(user.token));
      } finally {
        await admin.call('REPLICAOF', 'NO', 'ONE');
        await admin.config('SET', 'replica-serve-stale-data', 'yes');
        await silent.dispose();
      }
      expect((await login(user.login)).status).toBe(200);
    });
  });

  describe('loading its data set (LOADING)', () => {
    it('answers 503 while Redis loads, and works once it has loaded', async () => {
      const user = await newUser();
      // Enough keys, each loaded slowly, that loading takes seconds; clients are answered meanwhile.
      await admin.call('DEBUG', 'POPULATE', '20000', 'loading:');
      await admin.config('SET', 'key-load-delay', '100');
      await admin.config('SET', 'loading-process-events-interval-bytes', '1024');
      const loader = redis.client();
      const reloading = loader.call('DEBUG', 'RELOAD').catch((error: Error) => error);
      try {
        await waitFor('Redis to be loading', async () =>
          admin.get('probe').then(
            () => false,
            (error: Error) => /^LOADING/.test(error.message),
          ),
        );
        expectUnavailable(await login(user.login));
      } finally {
        await reloading;
        loader.disconnect();
        await admin.config('SET', 'key-load-delay', '0');
      }
      expect((await login(user.login)).status).toBe(200);
    });
  });
});
