import { AppProcess, callJson, RedisServer, sleep, waitFor } from '@lattice/testing';
import { EchoUpstream, type Seen } from '../fixtures/gateway/echo-upstream';

interface User {
  id: string;
  login: string;
  roles: string[];
}

const PASSWORD = 'correct-horse-1';
const ADMIN = { login: 'root', password: 'root-password-1' };

/**
 * What survives Redis losing data (CONTRACT 4.1, 7; README "Behaviour the
 * contract leaves open"): the id counter deleted, FLUSHALL while sessions are
 * cached in every process, registrations racing wipes, the admin account
 * wiped. Standalone only (not in e2e-cluster): it wipes its one redis-server.
 * That Redis runs with an evicting maxmemory-policy, which the apps report.
 */
describe('accounts and sessions after Redis loses data', () => {
  let redis: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  let upstream: EchoUpstream;
  let one: AppProcess;
  let two: AppProcess;
  let gateway: AppProcess;
  let serial = 0;

  const call = async (
    app: AppProcess,
    method: string,
    path: string,
    options: { body?: unknown; token?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const answer = await callJson(app, method, path, options);
    return { status: answer.status, body: answer.body ?? {} };
  };
  const register = async (app: AppProcess, login: string) =>
    call(app, 'POST', '/auth/register', { body: { login, name: login, password: PASSWORD } });
  const login = async (app: AppProcess, name: string, password = PASSWORD) =>
    call(app, 'POST', '/auth/login', { body: { login: name, password } });
  const signUp = async (app: AppProcess, name: string) => {
    const registered = await register(app, name);
    expect(registered.status).toBe(201);
    const signedIn = await login(app, name);
    expect(signedIn.status).toBe(200);
    return { token: signedIn.body.token as string, user: signedIn.body.user as User };
  };
  const me = (app: AppProcess, token: string) => call(app, 'GET', '/auth/me', { token });
  const unique = (prefix: string) => `${prefix}${++serial}`;

  beforeAll(async () => {
    [redis, upstream] = await Promise.all([
      RedisServer.start(['--maxmemory-policy', 'allkeys-lru']),
      EchoUpstream.start(),
    ]);
    raw = redis.client();
    const env = {
      REDIS_URL: redis.url,
      ADMIN_LOGIN: ADMIN.login,
      ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_IP: '100000/60',
      RATE_LIMIT_LOGIN: '100000/60',
    };
    [one, two] = await Promise.all([AppProcess.start('auth', env), AppProcess.start('auth', env)]);
    gateway = await AppProcess.start('gateway', {
      ...env,
      AUTH_URL: one.url(''),
      ROUTES: JSON.stringify([{ prefix: '/orders', upstream: upstream.url, auth: 'required' }]),
    });
    await Promise.all(
      [one, two, gateway].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
    await waitFor(
      'the admin account',
      async () => (await login(one, ADMIN.login, ADMIN.password)).status === 200,
    );
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([one, two, gateway].map((app) => app?.kill()));
    await upstream?.close();
    await redis?.dispose();
  });

  it('gives no id twice when the id counter is lost, and no new account inherits roles', async () => {
    const admin = (await login(one, ADMIN.login, ADMIN.password)).body.user as User;
    expect(admin.roles).toContain('admin');
    const alice = await signUp(one, unique('alice'));
    const taken = new Set([admin.id, alice.user.id]);

    await raw.del('user:id:');
    for (const app of [two, one]) {
      const newcomer = await signUp(app, unique('mallory'));
      expect(taken.has(newcomer.user.id)).toBe(false);
      expect(Number(newcomer.user.id)).toBeGreaterThan(Number(alice.user.id));
      expect(newcomer.user.roles).toEqual([]);
      expect(await raw.smembers(`user:${newcomer.user.id}:roles`)).toEqual([]);
      taken.add(newcomer.user.id);
    }
    // The earlier accounts are untouched.
    expect((await me(one, alice.token)).body.user).toMatchObject({ login: alice.user.login });
    expect((await login(two, ADMIN.login, ADMIN.password)).body.user).toMatchObject({
      id: admin.id,
      roles: ['admin'],
    });
  });

  it('refuses a token cached in every process once FLUSHALL lets its id go to a new account', async () => {
    const bob = await signUp(one, unique('bob'));
    // Warm every in-process cache with bob's session: both auth instances and the gateway.
    for (const app of [one, two]) expect((await me(app, bob.token)).status).toBe(200);
    const forwarded = await fetch(gateway.url('/orders/1'), {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(((await forwarded.json()) as Seen).headers['x-user-id']).toBe(bob.user.id);

    await raw.flushall();
    // New accounts until bob's id belongs to one of them. The admin account, restored
    // meanwhile by its leader, takes an id of its own: any one, bob's included.
    let heir = await signUp(one, unique('heir'));
    while (!(await raw.exists(`user:${bob.user.id}`))) heir = await signUp(one, unique('heir'));
    expect(await raw.hget(`user:${bob.user.id}`, 'login')).not.toBe(bob.user.login);

    for (const app of [one, two, gateway]) {
      const answer = await me(app, bob.token);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    const refused = await fetch(gateway.url('/orders/1'), {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(refused.status).toBe(401);
    // The heir's own session works everywhere.
    for (const app of [one, two, gateway]) {
      expect((await me(app, heir.token)).body.user).toMatchObject({ login: heir.user.login });
    }
  });

  it('never maps two logins to one id, nor lets a token answer for another account, while Redis is wiped under registrations', async () => {
    let wiping = true;
    const wiper = (async () => {
      for (let round = 0; wiping; round++) {
        await (round % 3 === 0 ? raw.flushall() : raw.del('user:id:'));
        // A login whose account is wiped while it runs is refused (AccountsService.confirmLogin),
        // so wipes are spaced for some logins (tens of ms of Argon2id) to get through.
        await sleep(40);
      }
    })();
    const sessions: { login: string; token: string }[] = [];
    const worker = async (app: AppProcess) => {
      for (let i = 0; i < 12; i++) {
        const name = unique('racer');
        if ((await register(app, name)).status !== 201) continue;
        const signedIn = await login(app, name);
        if (signedIn.status === 200)
          sessions.push({ login: name, token: signedIn.body.token as string });
      }
    };
    await Promise.all([worker(one), worker(two), worker(one), worker(two)]);
    wiping = false;
    await wiper;
    expect(sessions.length).toBeGreaterThan(0);

    // No token answers for an account other than the one that opened it.
    for (const session of sessions) {
      for (const app of [one, two]) {
        const answer = await me(app, session.token);
        expect([200, 401]).toContain(answer.status);
        if (answer.status === 200) expect((answer.body.user as User).login).toBe(session.login);
      }
    }
    // Every login still mapped leads to its own account, each at an id of its own.
    const logins = await raw.hgetall('users:');
    const ids = Object.values(logins);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [name, id] of Object.entries(logins)) {
      const owner = await raw.hget(`user:${id}`, 'login');
      if (owner !== null) expect(owner.toLowerCase()).toBe(name);
    }
    // New registrations after the storm get fresh ids and sign in as themselves.
    const after = await signUp(two, unique('after'));
    expect(ids).not.toContain(after.user.id);
    expect((await me(one, after.token)).body.user).toMatchObject({ login: after.user.login });
  });

  it('brings the admin account back after FLUSHALL, once, on its own and on the first login', async () => {
    const adminAccounts = async () => {
      const ids = new Set<string>();
      for (const key of await redis.keys('user:*')) {
        if (/^user:\d+$/.test(key) && (await raw.hget(key, 'login')) === ADMIN.login) {
          ids.add(key.slice('user:'.length));
        }
      }
      return [...ids];
    };

    // On its own: the leader of the two instances notices within its check interval.
    await raw.flushall();
    await waitFor('the admin account to come back', () => raw.hget('users:', ADMIN.login), 15_000);
    expect(await adminAccounts()).toHaveLength(1);

    // On the first login as ADMIN_LOGIN, on both instances at once.
    await raw.flushall();
    const [first, second] = await Promise.all([
      login(one, ADMIN.login, ADMIN.password),
      login(two, ADMIN.login, ADMIN.password),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect((first.body.user as User).roles).toEqual(['admin']);
    expect((second.body.user as User).id).toBe((first.body.user as User).id);
    await sleep(500);
    expect(await adminAccounts()).toEqual([(first.body.user as User).id]);
    expect(await raw.hget('users:', ADMIN.login)).toBe((first.body.user as User).id);
  });

  it('builds the user directory again after FLUSHALL, from the accounts there are', async () => {
    await raw.flushall();
    const { user } = await signUp(one, unique('Listed'));
    const root = await login(two, ADMIN.login, ADMIN.password);
    expect(root.status).toBe(200);
    const token = root.body.token as string;
    // Until the directory is whole again, a change that needs the admin count waits for it.
    await waitFor(
      'the directory to be built again',
      async () => {
        const res = await call(two, 'POST', `/auth/users/${user.id}/suspend`, { token });
        if (res.status !== 204) expect(res.body).toMatchObject({ statusCode: 503 });
        return res.status === 204;
      },
      15_000,
    );
    expect(await raw.get('{users}:indexed')).toBe('1');
    expect(await raw.smembers('{users}:admins')).toEqual([(root.body.user as User).id]);
    const listed = await call(one, 'GET', '/auth/users', { token });
    expect((listed.body.users as User[]).map((u) => u.login).sort()).toEqual(
      [ADMIN.login, user.login].sort(),
    );
    const refused = await login(one, user.login);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
  });

  it('warns once at start-up and in readiness when Redis may evict keys', async () => {
    for (const app of [one, two, gateway]) {
      const warnings = app.logs.split('\n').filter((line) => line.includes('maxmemory-policy'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/allkeys-lru/);
      const ready = await fetch(app.url('/health/ready'));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        details: {
          redis: {
            status: 'up',
            maxmemoryPolicy: 'allkeys-lru',
            warning: expect.stringMatching(/noeviction/),
          },
        },
      });
    }
    const safe = await RedisServer.start();
    const app = await AppProcess.start('auth', { REDIS_URL: safe.url });
    try {
      await waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200);
      const report = (await (await fetch(app.url('/health/ready'))).json()) as {
        details: { redis: Record<string, unknown> };
      };
      expect(report.details.redis).toEqual({ status: 'up', maxmemoryPolicy: 'noeviction' });
      expect(app.logs).not.toMatch(/maxmemory-policy/);
    } finally {
      await app.kill();
      await safe.dispose();
    }
  });
});
