import { createHash } from 'node:crypto';
import { AppProcess, callJson, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { PresenceClient } from '../fixtures/presence/presence-client';

interface Json {
  [key: string]: unknown;
}

const call = callJson;

const PASSWORD = 'password-123';
const ROOT = { login: 'root', password: 'root-password-1' };
const LOGINS = '{users}:logins';
const ADMINS = '{users}:admins';
const SUSPENDED = '{users}:suspended';

/**
 * Issue 23's administration and password reset (CONTRACT 8.2), through two
 * gateways, each in front of its own auth instance (each with its own
 * session cache), with a realtime app for sockets, on one Redis.
 */
describe('administration and password reset, across two auth instances and two gateways', () => {
  let redis: TestRedis;
  let authOne: AppProcess;
  let authTwo: AppProcess;
  let realtime: AppProcess;
  let one: AppProcess;
  let two: AppProcess;
  let rootToken: string;
  let rootId: string;
  const sockets: PresenceClient[] = [];

  const accountKey = (id: string, part: string) =>
    redis.mode === 'cluster' ? `{user:${id}}:${part}` : `user:${id}:${part}`;

  beforeAll(async () => {
    redis = await startTestRedis();
    // Accounts from before the user directory existed: the backfill must list them.
    const raw = redis.client();
    await raw.hset('users:', 'oldtimer', '500', 'oldboss', '501');
    await raw.set('user:id:', '501');
    for (const [id, login, role] of [
      ['500', 'OldTimer', 'editor'],
      ['501', 'OldBoss', 'admin'],
    ]) {
      await raw.hset(`user:${id}`, {
        login,
        id,
        name: login,
        followers: 0,
        following: 0,
        posts: 0,
        signup: 1_700_000_000,
        gen: `gen-${id}`,
      });
      await raw.sadd(accountKey(id, 'roles'), role);
    }
    const env = {
      ...redis.env,
      RATE_LIMIT_LOGIN: '40/60',
      ADMIN_LOGIN: ROOT.login,
      ADMIN_PASSWORD: ROOT.password,
    };
    [authOne, authTwo, realtime] = await Promise.all([
      AppProcess.start('auth', env),
      AppProcess.start('auth', env),
      AppProcess.start('realtime', redis.env),
    ]);
    [one, two] = await Promise.all([
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
      [authOne, authTwo, realtime, one, two].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
    rootToken = await signIn(one, ROOT.login, ROOT.password);
    rootId = ((await call(one, 'GET', '/auth/me', { token: rootToken })).body!.user as Json)
      .id as string;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all([authOne, authTwo, realtime, one, two].map((app) => app?.kill()));
    await redis?.dispose();
  });

  async function register(login: string): Promise<string> {
    const res = await call(one, 'POST', '/auth/register', {
      body: { login, name: `${login} name`, password: PASSWORD },
    });
    expect(res.status).toBe(201);
    return res.body!.id as string;
  }

  async function signIn(gateway: AppProcess, login: string, password = PASSWORD) {
    const res = await call(gateway, 'POST', '/auth/login', { body: { login, password } });
    expect(res.status).toBe(200);
    return res.body!.token as string;
  }

  const me = async (gateway: AppProcess, token: string) =>
    (await call(gateway, 'GET', '/auth/me', { token })).status;

  const admin = (method: string, path: string, body?: unknown, gateway = one) =>
    call(gateway, method, path, { token: rootToken, body });

  const setRoles = (id: string, roles: string[], token = rootToken, gateway = one) =>
    call(gateway, 'PUT', `/auth/users/${id}/roles`, { token, body: { roles } });

  /** Every key of the user's id, as accounts.e2e-spec counts them (login counters left out). */
  async function keysOf(id: string, login: string): Promise<string[]> {
    const lower = login.toLowerCase();
    const owned = (await redis.keys('*')).filter(
      (key) =>
        new RegExp(`(^|[{:])user:${id}($|[}:])`).test(key) ||
        key.includes(`{${id}}`) ||
        key.includes(lower),
    );
    const expiring = owned.filter((key) => /^(ratelimit:|lock:\{user:)/.test(key));
    for (const key of expiring) expect(await redis.client().pttl(key)).toBeGreaterThan(0);
    return owned.filter((key) => !expiring.includes(key));
  }

  /** Every string and hash value in Redis, and every key name, as one text. */
  async function everything(): Promise<string> {
    const client = redis.client();
    const parts: string[] = [];
    for (const key of await redis.keys('*')) {
      parts.push(key);
      const type = await client.type(key);
      if (type === 'string') parts.push((await client.get(key)) ?? '');
      if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
    }
    return parts.join('\n');
  }

  describe('the user directory', () => {
    it('has listed the accounts that existed before it, and counts their admins', async () => {
      const client = redis.client();
      expect(await client.get('{users}:indexed')).toBe('1');
      expect(await client.zrange(LOGINS, '0', '-1')).toEqual(
        expect.arrayContaining(['oldtimer', 'oldboss', 'root']),
      );
      expect((await client.smembers(ADMINS)).sort()).toEqual(['501', rootId].sort());
      const old = await admin('GET', '/auth/users/500');
      expect(old.status).toBe(200);
      expect(old.body).toEqual({
        id: '500',
        login: 'OldTimer',
        name: 'OldTimer',
        roles: ['editor'],
        signup: new Date(1_700_000_000_000).toISOString(),
        followers: 0,
        following: 0,
        posts: 0,
        suspended: false,
      });
    });

    it('lists, searches by prefix ignoring case, and pages with an opaque cursor', async () => {
      const ids: Record<string, string> = {};
      for (const login of ['Listd', 'lista', 'LISTC', 'Liste', 'listB', 'lost']) {
        ids[login] = await register(login);
      }
      expect(await redis.client().zscore(LOGINS, 'listc')).toBe('0');

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `&cursor=${cursor}` : '';
        const page = await admin('GET', `/auth/users?prefix=LiSt&limit=2${query}`, undefined, two);
        expect(page.status).toBe(200);
        const users = page.body!.users as Json[];
        expect(users.length).toBeLessThanOrEqual(2);
        for (const user of users) {
          expect(user).toEqual(
            expect.objectContaining({ id: ids[user.login as string], roles: [], suspended: false }),
          );
          seen.push(user.login as string);
        }
        cursor = page.body!.nextCursor as string | null;
        pages += 1;
      } while (cursor);
      expect(seen).toEqual(['lista', 'listB', 'LISTC', 'Listd', 'Liste']);
      expect(pages).toBe(3);

      const all = await admin('GET', '/auth/users?limit=100');
      const logins = (all.body!.users as Json[]).map((user) => user.login);
      expect(logins).toEqual(
        expect.arrayContaining(['lost', 'lista', 'OldTimer', 'OldBoss', 'root']),
      );
      expect(all.body!.nextCursor).toBeNull();
      const none = await admin('GET', '/auth/users?prefix=zzz');
      expect(none.body).toEqual({ users: [], nextCursor: null });
    });

    it('refuses bad queries with 400, callers without the admin role with 403, anonymous ones with 401', async () => {
      for (const query of [
        'limit=0',
        'limit=101',
        'limit=ten',
        'prefix=a%20b',
        'cursor=!!',
        'cursor=YSBi', // base64url of "a b": well-formed, but no login this API gave
        'other=1',
      ]) {
        const res = await admin('GET', `/auth/users?${query}`);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      }
      await register('Plain');
      const plain = await signIn(two, 'Plain');
      for (const [method, path, body] of [
        ['GET', '/auth/users'],
        ['GET', '/auth/users/500'],
        ['PUT', '/auth/users/500/roles', { roles: [] }],
        ['POST', '/auth/users/500/suspend'],
        ['POST', '/auth/users/500/reactivate'],
        ['POST', '/auth/users/500/password-reset'],
      ] as [string, string, unknown?][]) {
        const res = await call(two, method, path, { token: plain, body });
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ code: 'FORBIDDEN' });
        expect((await call(two, method, path, { body })).status).toBe(401);
      }
      expect((await admin('GET', '/auth/users/99999')).body).toMatchObject({
        statusCode: 404,
        code: 'NOT_FOUND',
      });
      expect((await admin('GET', '/auth/users/abc')).status).toBe(400);
      for (const roles of [['Admin'], ['a b'], 'admin', [''], Array(17).fill('x')]) {
        const res = await setRoles('500', roles as string[]);
        expect(res.status).toBe(400);
      }
      expect((await setRoles('99999', ['x'])).status).toBe(404);
    });
  });

  describe('PUT /auth/users/:userId/roles', () => {
    it('is seen at once by the user’s sessions on the other instance, which stay open', async () => {
      const id = await register('Riley');
      const token = await signIn(two, 'Riley');
      const socket = await PresenceClient.connect(realtime.url(''), { token });
      sockets.push(socket);
      expect((await call(two, 'GET', '/auth/users', { token })).status).toBe(403); // cached on two

      const promoted = await setRoles(id, ['editor', 'admin', 'admin']);
      expect(promoted.status).toBe(200);
      expect(promoted.body).toMatchObject({ id, roles: ['admin', 'editor'], suspended: false });
      // No waiting: every instance dropped the cached session before the answer.
      expect((await call(two, 'GET', '/auth/users', { token })).status).toBe(200);
      expect((await call(one, 'GET', '/auth/users', { token })).status).toBe(200);
      const client = redis.client();
      expect((await client.smembers(accountKey(id, 'roles'))).sort()).toEqual(['admin', 'editor']);
      expect(await client.sismember(ADMINS, id)).toBe(1);
      const [sessionKey] = await redis.keys(`session:{${id}}:*`);
      expect(await client.hget(sessionKey, 'roles')).toBe('admin,editor');
      expect(await client.pttl(sessionKey)).toBeGreaterThan(0);

      const demoted = await setRoles(id, [], rootToken, two);
      expect(demoted.status).toBe(200);
      expect(demoted.body).toMatchObject({ roles: [] });
      expect((await call(one, 'GET', '/auth/users', { token })).status).toBe(403);
      expect((await call(two, 'GET', '/auth/users', { token })).status).toBe(403);
      expect(await client.sismember(ADMINS, id)).toBe(0);
      expect(await client.exists(accountKey(id, 'roles'))).toBe(0);
      expect(await me(two, token)).toBe(200);
      expect(socket.connected).toBe(true);
      // A new session carries the roles as they now are.
      const fresh = await call(one, 'POST', '/auth/login', {
        body: { login: 'Riley', password: PASSWORD },
      });
      expect((fresh.body!.user as Json).roles).toEqual([]);
    });

    it('refuses with 409 LAST_ADMIN to leave no active admin', async () => {
      // OldBoss (from before the directory) counts as an admin until demoted.
      expect((await setRoles('501', ['editor'])).status).toBe(200);
      expect(await redis.client().sismember(ADMINS, '501')).toBe(0);

      const last = await setRoles(rootId, ['editor']);
      expect(last.status).toBe(409);
      expect(last.body).toMatchObject({ statusCode: 409, code: 'LAST_ADMIN' });
      const suspendSelf = await admin('POST', `/auth/users/${rootId}/suspend`, undefined, two);
      expect(suspendSelf.status).toBe(409);
      expect(suspendSelf.body).toMatchObject({ code: 'LAST_ADMIN' });
      const deleteSelf = await call(two, 'DELETE', '/auth/me', {
        token: rootToken,
        body: { password: ROOT.password },
      });
      expect(deleteSelf.status).toBe(409);
      expect(deleteSelf.body).toMatchObject({ code: 'LAST_ADMIN' });
      expect(await me(one, rootToken)).toBe(200);

      // A suspended admin is no active admin: with the other one suspended, root is still the last.
      const id = await register('Deputy');
      expect((await setRoles(id, ['admin'])).status).toBe(200);
      expect((await admin('POST', `/auth/users/${id}/suspend`)).status).toBe(204);
      expect((await setRoles(rootId, [])).status).toBe(409);
      expect((await admin('POST', `/auth/users/${id}/reactivate`)).status).toBe(204);
      expect((await redis.client().smembers(SUSPENDED)).includes(id)).toBe(false);

      // Two admins demoting each other at once, on two instances: one admin remains.
      const deputyToken = await signIn(two, 'Deputy');
      const [a, b] = await Promise.all([
        setRoles(id, [], rootToken, one),
        setRoles(rootId, [], deputyToken, two),
      ]);
      expect([a.status, b.status].filter((s) => s === 200)).toHaveLength(1);
      for (const res of [a, b]) expect([200, 403, 409]).toContain(res.status);
      const admins = await redis.client().smembers(ADMINS);
      expect(admins).toHaveLength(1);
      const remaining = admins[0] === rootId ? rootToken : deputyToken;
      const gone = admins[0] === rootId ? id : rootId;
      expect((await setRoles(gone, ['admin'], remaining)).status).toBe(200);
      expect((await setRoles(id, [])).status).toBe(200);
      expect(await redis.client().smembers(ADMINS)).toEqual([rootId]);
    });
  });

  describe('suspension', () => {
    it('ends every session on both instances before the answer and closes the sockets', async () => {
      const id = await register('Sully');
      const onOne = await signIn(one, 'Sully');
      const onTwo = await signIn(two, 'Sully');
      for (const gateway of [one, two]) {
        expect(await me(gateway, onOne)).toBe(200);
        expect(await me(gateway, onTwo)).toBe(200);
      }
      const socket = await PresenceClient.connect(realtime.url(''), { token: onTwo });
      sockets.push(socket);

      const suspended = await admin('POST', `/auth/users/${id}/suspend`);
      expect(suspended.status).toBe(204);
      for (const gateway of [two, one]) {
        expect(await me(gateway, onOne)).toBe(401);
        expect(await me(gateway, onTwo)).toBe(401);
      }
      await waitFor('the socket to be closed', () => !socket.connected, 1_000, 5);
      expect(socket.disconnectReason).toBe('io server disconnect');
      expect(await redis.keys(`session*{${id}}*`)).toEqual([]);
      expect(await redis.client().sismember(SUSPENDED, id)).toBe(1);

      // Only the right password learns of the suspension.
      const right = await call(two, 'POST', '/auth/login', {
        body: { login: 'sully', password: PASSWORD },
      });
      expect(right.status).toBe(403);
      expect(right.body).toMatchObject({ statusCode: 403, code: 'ACCOUNT_SUSPENDED' });
      expect(right.headers.get('set-cookie')).toBeNull();
      const wrong = await call(one, 'POST', '/auth/login', {
        body: { login: 'Sully', password: 'not-the-password' },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
      expect(await redis.keys(`session*{${id}}*`)).toEqual([]);
      expect((await admin('GET', `/auth/users/${id}`, undefined, two)).body).toMatchObject({
        suspended: true,
      });
      expect((await admin('POST', `/auth/users/${id}/suspend`)).status).toBe(204); // again

      expect((await admin('POST', `/auth/users/${id}/reactivate`, undefined, two)).status).toBe(
        204,
      );
      expect(await redis.client().sismember(SUSPENDED, id)).toBe(0);
      expect(await me(one, await signIn(two, 'Sully'))).toBe(200);
      expect((await admin('POST', '/auth/users/99999/suspend')).status).toBe(404);
      expect((await admin('POST', '/auth/users/99999/reactivate')).status).toBe(404);
    });

    it('leaves no session to a login that raced the suspension on the other instance', async () => {
      for (let round = 0; round < 3; round++) {
        const login = `Racer${round}`;
        const id = await register(login);
        const logins = Array.from({ length: 4 }, () =>
          call(two, 'POST', '/auth/login', { body: { login, password: PASSWORD } }),
        );
        expect((await admin('POST', `/auth/users/${id}/suspend`)).status).toBe(204);
        for (const res of await Promise.all(logins)) {
          expect([200, 403]).toContain(res.status);
          if (res.status === 200) {
            const raced = res.body!.token as string;
            expect(await me(one, raced)).toBe(401);
            expect(await me(two, raced)).toBe(401);
          }
        }
        expect(await redis.keys(`session:{${id}}:*`)).toEqual([]);
      }
    });
  });

  describe('password reset', () => {
    it('issues a single-use token stored only as a hash, which ends every session when used', async () => {
      const id = await register('Resa');
      const onOne = await signIn(one, 'Resa');
      const onTwo = await signIn(two, 'Resa');
      expect(await me(two, onTwo)).toBe(200);

      const issued = await admin('POST', `/auth/users/${id}/password-reset`);
      expect(issued.status).toBe(201);
      const token = issued.body!.token as string;
      const expiresAt = Date.parse(issued.body!.expiresAt as string);
      expect(expiresAt - Date.now()).toBeGreaterThan(14 * 60_000);
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(15 * 60_000);
      const secret = token.slice(token.indexOf('.') + 1);
      expect(secret.length).toBeGreaterThanOrEqual(43);
      const client = redis.client();
      const resetKey = accountKey(id, 'password-reset');
      expect(await client.hget(resetKey, 'hash')).toBe(
        createHash('sha256').update(secret).digest('hex'),
      );
      const ttl = await client.pttl(resetKey);
      expect(ttl).toBeGreaterThan(14 * 60_000);
      expect(ttl).toBeLessThanOrEqual(15 * 60_000);
      expect(await everything()).not.toContain(secret);

      const reset = await call(two, 'POST', '/auth/password-reset', {
        body: { token, newPassword: 'brand-new-pass' },
      });
      expect(reset.status).toBe(204);
      // No waiting: both sessions are refused on both instances.
      for (const gateway of [one, two]) {
        expect(await me(gateway, onOne)).toBe(401);
        expect(await me(gateway, onTwo)).toBe(401);
      }
      expect(await client.exists(resetKey)).toBe(0);
      expect(await redis.keys(`session:{${id}}:*`)).toEqual([]);
      const stored = await client.get(accountKey(id, 'password'));
      expect(stored).toMatch(/^\$argon2id\$/);
      expect(
        (await call(one, 'POST', '/auth/login', { body: { login: 'Resa', password: PASSWORD } }))
          .status,
      ).toBe(401);
      await signIn(two, 'Resa', 'brand-new-pass');

      const again = await call(one, 'POST', '/auth/password-reset', {
        body: { token, newPassword: 'third-password' },
      });
      expect(again.status).toBe(400);
      expect(again.body).toMatchObject({ statusCode: 400, code: 'INVALID_TOKEN' });
      await signIn(one, 'Resa', 'brand-new-pass');
    });

    it('lets one of two uses at once on two instances succeed', async () => {
      const id = await register('Twin');
      for (let round = 0; round < 3; round++) {
        const token = (await admin('POST', `/auth/users/${id}/password-reset`)).body!
          .token as string;
        const answers = await Promise.all(
          [one, two].map((gateway, i) =>
            call(gateway, 'POST', '/auth/password-reset', {
              body: { token, newPassword: `password-${round}-${i}` },
            }),
          ),
        );
        const statuses = answers.map((res) => res.status).sort();
        expect(statuses).toEqual([204, 400]);
        const winner = answers.findIndex((res) => res.status === 204);
        await signIn(one, 'Twin', `password-${round}-${winner}`);
      }
    });

    it('refuses an expired, replaced, malformed or forged token, and a bad new password', async () => {
      const id = await register('Expo');
      const first = (await admin('POST', `/auth/users/${id}/password-reset`)).body!.token as string;
      const second = (await admin('POST', `/auth/users/${id}/password-reset`, undefined, two)).body!
        .token as string;
      const use = (token: string, newPassword = 'brand-new-pass') =>
        call(one, 'POST', '/auth/password-reset', { body: { token, newPassword } });

      const replaced = await use(first);
      expect(replaced.status).toBe(400);
      expect(replaced.body).toMatchObject({ code: 'INVALID_TOKEN' });
      for (const token of [
        'garbage',
        `${id}.${'A'.repeat(43)}`,
        `99999.${second.slice(second.indexOf('.') + 1)}`,
      ]) {
        const res = await use(token);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'INVALID_TOKEN' });
      }
      for (const body of [
        { token: second, newPassword: 'short' },
        { token: second, newPassword: 'x'.repeat(129) },
        { token: second },
        { token: second, newPassword: 'brand-new-pass', extra: true },
      ]) {
        const res = await call(two, 'POST', '/auth/password-reset', { body });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      // None of that used the token up; Redis expiring it does.
      const resetKey = accountKey(id, 'password-reset');
      expect(await redis.client().exists(resetKey)).toBe(1);
      await redis.client().pexpire(resetKey, 1);
      await waitFor('the token to expire', async () => !(await redis.client().exists(resetKey)));
      const expired = await use(second);
      expect(expired.status).toBe(400);
      expect(expired.body).toMatchObject({ code: 'INVALID_TOKEN' });
      await signIn(two, 'Expo');
      expect((await admin('POST', '/auth/users/99999/password-reset')).status).toBe(404);
    });
  });

  describe('DELETE /auth/me', () => {
    it('also takes the account out of the directory and drops its reset token', async () => {
      const id = await register('Delia');
      expect((await setRoles(id, ['admin', 'editor'])).status).toBe(200);
      expect((await admin('POST', `/auth/users/${id}/password-reset`)).status).toBe(201);
      const token = await signIn(two, 'Delia');
      expect(await keysOf(id, 'Delia')).toContain(accountKey(id, 'password-reset'));

      const deleted = await call(two, 'DELETE', '/auth/me', {
        token,
        body: { password: PASSWORD },
      });
      expect(deleted.status).toBe(204);
      expect(await keysOf(id, 'Delia')).toEqual([]);
      const client = redis.client();
      expect(await client.zscore(LOGINS, 'delia')).toBeNull();
      expect(await client.sismember(ADMINS, id)).toBe(0);
      expect(await client.sismember(SUSPENDED, id)).toBe(0);
      expect((await admin('GET', `/auth/users/${id}`)).status).toBe(404);
      const listed = await admin('GET', '/auth/users?prefix=delia');
      expect(listed.body).toEqual({ users: [], nextCursor: null });
    });
  });

  describe('POST /auth/password-reset attempts', () => {
    it('are limited per client address like logins, with their own policy', async () => {
      const statuses: number[] = [];
      let refused: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 45 && !refused; i++) {
        const res = await call(i % 2 ? one : two, 'POST', '/auth/password-reset', {
          body: { token: `1.${'B'.repeat(43)}`, newPassword: 'brand-new-pass' },
        });
        statuses.push(res.status);
        if (res.status === 429) refused = res;
      }
      expect(refused).toBeDefined();
      expect(refused!.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
      expect(refused!.body!.message).toContain('password-reset');
      expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refused!.headers.get('ratelimit-policy')).toContain('"password-reset";q=40;w=60');
      expect(statuses.slice(0, -1).every((status) => status === 400)).toBe(true);
      // Logins keep their own budget.
      await signIn(one, ROOT.login, ROOT.password);
    });
  });
});
