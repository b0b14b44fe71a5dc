import { RedisService } from '@lattice/redis';
import { RedisServer, sleep, startPlatform, waitFor } from '@lattice/testing';
import { REVOCATION_CONFIRM_MS } from './revocation.feed';
import { SessionCache } from './session.cache';
import { SessionModule } from './session.module';
import { SessionService } from './session.service';

interface Instance {
  redis: RedisService;
  sessions: SessionService;
  cache: SessionCache;
  close(): Promise<void>;
}

/** One auth instance's sessions: SessionModule built by Nest, on its own connections. */
async function instance(env: Record<string, string>): Promise<Instance> {
  const platform = await startPlatform({ app: 'auth', env, imports: [SessionModule] });
  return {
    redis: platform.get(RedisService),
    cache: platform.get(SessionCache),
    sessions: platform.get(SessionService),
    close: () => platform.close(),
  };
}

const user = { id: '42', login: 'Ada', roles: ['admin'] };
const meta = { ip: '203.0.113.9', userAgent: 'jest' };

describe('shared sessions on two instances', () => {
  let server: RedisServer;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    server = await RedisServer.start();
    const env = { REDIS_URL: server.url, KEY_PREFIX: 'lat:' };
    a = await instance(env);
    b = await instance(env);
    await Promise.all([a.redis.whenReady(5000), b.redis.whenReady(5000)]);
    await sleep(100); // subscribers subscribed
  });

  afterAll(async () => {
    await Promise.all([a, b].map((i) => i?.close()));
    await server?.dispose();
  });

  it('a session created on one instance is valid on the other', async () => {
    const { token, record } = await a.sessions.create(user, meta);
    const seen = await b.sessions.authenticate(token);
    expect(seen).toMatchObject({
      id: record.id,
      userId: '42',
      login: 'Ada',
      roles: ['admin'],
      ip: meta.ip,
    });
  });

  it('stores only a hash of the secret, with TTLs on every key', async () => {
    const { token } = await a.sessions.create(user, meta);
    const secret = token.split('.')[1];
    const raw = server.client();
    const keys = await raw.keys('lat:*');
    expect(keys.some((k) => k.startsWith('lat:session:{42}:'))).toBe(true);
    expect(keys).toContain('lat:sessions:{42}');
    for (const key of keys) {
      const type = await raw.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await raw.hgetall(key))
          : JSON.stringify(await raw.zrange(key, '0', '-1'));
      expect(dump).not.toContain(secret);
      expect(await raw.pttl(key)).toBeGreaterThan(0);
    }
    raw.disconnect();
  });

  it('refuses a wrong secret for a real session id, even once it is cached', async () => {
    const { token } = await a.sessions.create(user, meta);
    expect(await a.sessions.authenticate(token)).not.toBeNull();
    const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`;
    expect(await a.sessions.authenticate(forged)).toBeNull();
    expect(await b.sessions.authenticate(forged)).toBeNull();
  });

  it('a logout on one instance has ended the session on the other by the time it returns', async () => {
    const { token, record } = await a.sessions.create(user, meta);
    expect(await b.sessions.authenticate(token)).not.toBeNull(); // now cached on b
    expect(b.sessions.peek(token)).toMatchObject({ id: record.id });
    await a.sessions.revoke(record.id);
    // No waiting: b dropped its copy before a's revoke resolved, so b must ask Redis.
    expect(b.sessions.peek(token)).toBeUndefined();
    expect(await b.sessions.authenticate(token)).toBeNull();
  });

  it('waits a bounded time for an instance that does not confirm a revocation', async () => {
    const { record } = await a.sessions.create(user, meta);
    // A subscriber that receives announcements but never answers them (a paused process).
    const silent = server.client();
    await silent.subscribe('lat:session:revoked');
    const started = Date.now();
    await a.sessions.revoke(record.id);
    const waited = Date.now() - started;
    await silent.quit();
    // It waited for the silent one (timers may fire a millisecond early), then gave up.
    expect(waited).toBeGreaterThanOrEqual(REVOCATION_CONFIRM_MS - 2);
  });

  it('applies the plain id lists an instance of the previous version announces', async () => {
    const { token, record } = await a.sessions.create(user, meta);
    expect(await b.sessions.authenticate(token)).not.toBeNull(); // cached on b
    const raw = server.client();
    await raw.publish('lat:session:revoked', `${record.id},1-AAAAAAAAAAAAAAAAAAAAAA`);
    raw.disconnect();
    await waitFor('b to drop the session', () => b.sessions.peek(token) === undefined, 1000, 5);
  });

  it('lists a user’s sessions and revokes all but one', async () => {
    const other = { id: '77', login: 'bob', roles: [] };
    const first = await a.sessions.create(other, meta);
    const second = await a.sessions.create(other, meta);
    const third = await b.sessions.create(other, meta);
    const ids = (await b.sessions.list('77')).map((s) => s.id);
    expect(ids.sort()).toEqual([first.record.id, second.record.id, third.record.id].sort());
    expect(await a.sessions.authenticate(first.token)).not.toBeNull();
    expect(await a.sessions.revokeAll('77', second.record.id)).toBe(2);
    expect((await b.sessions.list('77')).map((s) => s.id)).toEqual([second.record.id]);
    expect(await a.sessions.authenticate(first.token)).toBeNull();
    expect(await b.sessions.authenticate(third.token)).toBeNull();
    expect(await b.sessions.authenticate(second.token)).not.toBeNull();
  });

  it('writes "last seen" at most once a minute, and then pushes the idle expiry forward', async () => {
    const { token, record } = await a.sessions.create(user, meta);
    const raw = server.client();
    const key = `lat:session:{42}:${record.id}`;
    const fresh = await instance({ REDIS_URL: server.url, KEY_PREFIX: 'lat:' });
    await fresh.redis.whenReady(5000);
    await fresh.sessions.authenticate(token);
    expect(await raw.hget(key, 'lastSeenAt')).toBe(String(record.lastSeenAt));

    const twoMinutesAgo = Date.now() - 120_000;
    await raw.hset(key, 'lastSeenAt', String(twoMinutesAgo));
    await raw.pexpire(key, 5_000);
    const other = await instance({ REDIS_URL: server.url, KEY_PREFIX: 'lat:' });
    await other.redis.whenReady(5000);
    await other.sessions.authenticate(token);
    expect(Number(await raw.hget(key, 'lastSeenAt'))).toBeGreaterThan(twoMinutesAgo + 100_000);
    expect(await raw.pttl(key)).toBeGreaterThan(1_000_000);
    raw.disconnect();
    await Promise.all([fresh.close(), other.close()]);
  });

  it('stops trusting its cache while its revocation feed is down', async () => {
    const { token, record } = await a.sessions.create(user, meta);
    expect(await b.sessions.authenticate(token)).not.toBeNull(); // cached on b
    const raw = server.client();
    // Cut b's subscriber, then end the session behind everyone's back (no broadcast).
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await raw.del(`lat:session:{42}:${record.id}`);
    expect(await b.sessions.authenticate(token)).toBeNull();
    raw.disconnect();
    // The feed comes back by itself and the cache is used again.
    const again = await a.sessions.create(user, meta);
    await waitFor(
      'b to cache again',
      async () => {
        await b.sessions.authenticate(again.token);
        return b.cache.get(again.record.id) !== undefined;
      },
      5000,
      50,
    );
  });

  it('refuses a session, from Redis and from any cache, once its user id holds another account', async () => {
    const raw = server.client();
    const heir = { id: '77', login: 'Heir', roles: [] };
    await raw.hset('lat:user:77', 'login', 'first', 'gen', 'g1');
    const { token, record } = await a.sessions.create(heir, meta, 'g1');
    expect(await a.sessions.authenticate(token)).toMatchObject({ accountGeneration: 'g1' });
    expect(await b.sessions.authenticate(token)).toMatchObject({ id: record.id });
    expect(b.cache.get(record.id)).toBeDefined();

    // The id goes to a new account: announced by a, before it is written.
    await a.sessions.announceAccount('77', 'g2');
    await raw.hset('lat:user:77', 'login', 'second', 'gen', 'g2');
    for (const instance of [a, b]) {
      expect(instance.sessions.peek(token)).toBeUndefined();
      expect(await instance.sessions.authenticate(token)).toBeNull();
    }
    expect(await a.sessions.list('77')).toEqual([]);
    // A session of the new account is cached and served as usual.
    const fresh = await a.sessions.create(heir, meta, 'g2');
    expect(await b.sessions.authenticate(fresh.token)).toMatchObject({ accountGeneration: 'g2' });
    expect(b.sessions.peek(fresh.token)).toMatchObject({ id: fresh.record.id });
    expect((await a.sessions.list('77')).map((s) => s.id)).toEqual([fresh.record.id]);
    raw.disconnect();
  });

  it('refuses a session whose account generation changed in Redis, even unannounced', async () => {
    const raw = server.client();
    await raw.hset('lat:user:78', 'login', 'first', 'gen', 'g1');
    const { token } = await a.sessions.create({ id: '78', login: 'x', roles: [] }, meta, 'g1');
    await raw.hset('lat:user:78', 'gen', 'g2');
    expect(await b.sessions.authenticate(token)).toBeNull();
    raw.disconnect();
  });

  it('reports Redis being unreachable instead of calling the caller signed out', async () => {
    const { token } = await a.sessions.create({ id: '99', login: 'x', roles: [] }, meta);
    await server.stop();
    await expect(
      a.sessions.authenticate(`${token.split('.')[0]}.${'B'.repeat(43)}`),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    await server.restart();
    await waitFor('reconnect', () => a.redis.ping(200), 10_000);
  });
});
