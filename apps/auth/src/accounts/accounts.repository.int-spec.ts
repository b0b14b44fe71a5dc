import { RedisModule, RedisService } from '@lattice/redis';
import {
  RedisCluster,
  RedisServer,
  startPlatform,
  type PlatformInstance,
  type TestRedis,
} from '@lattice/testing';
import { AccountKeys } from './account.keys';
import { AccountsRepository, type NewAccount } from './accounts.repository';

/**
 * Account writes, standalone and on a cluster of three masters, where the
 * profile and the session index lie in different slots: an id is written
 * only if none of its keys exist, in one script (profile, password and roles
 * share a slot), and nothing is ever sent across slots.
 */
describe.each(['standalone', 'cluster'])('AccountsRepository (%s)', (mode) => {
  let server: TestRedis;
  let platform: PlatformInstance;
  let redis: RedisService;
  let accounts: AccountsRepository;
  let raw: ReturnType<RedisServer['client']> | ReturnType<RedisCluster['client']>;
  const account = (id: string, login: string, extra: Partial<NewAccount> = {}): NewAccount => ({
    id,
    generation: `gen-${login}`,
    login,
    name: login,
    passwordHash: `$argon2id$${login}`,
    ...extra,
  });
  const keysOf = (id: string) => new AccountKeys(id, redis);

  beforeAll(async () => {
    server = mode === 'cluster' ? await RedisCluster.start() : await RedisServer.start();
    platform = await startPlatform({
      app: 'auth',
      env: { ...server.env, KEY_PREFIX: 'acc:' },
      imports: [RedisModule],
    });
    redis = platform.get(RedisService);
    expect(await redis.whenReady(10_000)).toBe(true);
    expect(redis.isCluster).toBe(mode === 'cluster');
    accounts = new AccountsRepository(redis);
    raw = server.client();
  });

  afterAll(async () => {
    raw?.disconnect();
    await platform?.close();
    await server?.dispose();
  });

  it('writes an account with its generation, and claims a login once', async () => {
    const id = await accounts.nextId();
    expect(await accounts.create(account(id, 'Grace', { roles: ['admin'] }))).toBe(true);
    expect(await accounts.claimLogin('grace', id)).toBe(true);
    expect(await accounts.claimLogin('grace', '999')).toBe(false);
    expect(await accounts.account(id)).toMatchObject({
      generation: 'gen-Grace',
      profile: { id, login: 'Grace', roles: ['admin'] },
    });
    expect(await accounts.credentials(id)).toMatchObject({ passwordHash: '$argon2id$Grace' });
  });

  it.each([
    ['profile', (k: AccountKeys) => raw.hset(`acc:${k.profile}`, 'login', 'old')],
    ['password', (k: AccountKeys) => raw.set(`acc:${k.password}`, '$argon2id$old')],
    ['roles', (k: AccountKeys) => raw.sadd(`acc:${k.roles}`, 'admin')],
    ['session index', (k: AccountKeys) => raw.zadd(`acc:${k.sessionIndex}`, 1, 's')],
  ])('refuses an id whose %s is left from an earlier account', async (_name, leave) => {
    const id = await accounts.nextId();
    await leave(keysOf(id));
    expect(await accounts.create(account(id, `new${id}`, { roles: ['member'] }))).toBe(false);
    // Nothing of the refused account was written, and the earlier roles gained nothing.
    expect(await raw.smembers(`acc:${keysOf(id).roles}`)).not.toContain('member');
    expect(await raw.hget(`acc:${keysOf(id).profile}`, 'gen')).toBeNull();
  });

  it('moves a lost counter past every id given, never back', async () => {
    const id = await accounts.nextId();
    expect(await accounts.create(account(id, 'highest'))).toBe(true);
    expect(await accounts.claimLogin('highest', id)).toBe(true);
    // An id beyond the counter, known only from a left-over profile key.
    await raw.hset(`acc:user:${Number(id) + 5}`, 'login', 'orphan');
    await raw.del('acc:user:id:');
    expect(await accounts.nextId()).toBe('1');
    expect(await accounts.raiseCounterPast('1')).toBe(Number(id) + 5);
    expect(await accounts.nextId()).toBe(String(Number(id) + 6));
    expect(await accounts.raiseCounterPast('2')).toBe(Number(id) + 6);
  });

  it('removes an account only while the id still holds it', async () => {
    const id = await accounts.nextId();
    expect(await accounts.create(account(id, 'first'))).toBe(true);
    await accounts.remove(id, 'gen-someone-else');
    expect(await accounts.generation(id)).toBe('gen-first');
    await accounts.remove(id, 'gen-first');
    expect(await accounts.generation(id)).toBeNull();
    expect(await raw.exists(`acc:${keysOf(id).password}`)).toBe(0);
  });

  it('frees a login only while it maps to the given id', async () => {
    expect(await accounts.claimLogin('kept', '41')).toBe(true);
    await accounts.releaseLogin('kept', '40');
    expect(await accounts.idForLogin('kept')).toBe('41');
    await accounts.releaseLogin('kept', '41');
    expect(await accounts.idForLogin('kept')).toBeNull();
  });
});
