import { ConfigService, loadConfig } from '@lattice/config';
import { RedisService } from '@lattice/redis';
import { RedisCluster, RedisServer, type TestRedis } from '@lattice/testing';
import { AccountsRepository } from './accounts.repository';

/**
 * Account creation, standalone and on a cluster of three masters, where a
 * user's keys lie in different slots: the path that gives back a new
 * account's keys when its login was claimed meanwhile must not send a
 * multi-key command across slots.
 */
describe.each(['standalone', 'cluster'])('AccountsRepository (%s)', (mode) => {
  let server: TestRedis;
  let redis: RedisService;
  let accounts: AccountsRepository;

  beforeAll(async () => {
    server = mode === 'cluster' ? await RedisCluster.start() : await RedisServer.start();
    redis = new RedisService(
      new ConfigService(loadConfig('auth', { ...server.env, KEY_PREFIX: 'acc:' })),
    );
    redis.onModuleInit();
    expect(await redis.whenReady(10_000)).toBe(true);
    expect(redis.isCluster).toBe(mode === 'cluster');
    accounts = new AccountsRepository(redis);
  });

  afterAll(async () => {
    await redis?.onApplicationShutdown();
    await server?.dispose();
  });

  it('creates an account, and leaves nothing behind when the login was taken meanwhile', async () => {
    const input = { login: 'Grace', name: 'G', passwordHash: '$argon2id$x', roles: ['admin'] };
    const created = await accounts.create(input);
    expect(created).toMatchObject({ login: 'Grace', roles: ['admin'] });
    // The same login again, as a racing instance would (the service holds a lock; this does not).
    expect(await accounts.create({ ...input, login: 'GRACE' })).toBeNull();
    expect(await accounts.idForLogin('grace')).toBe(created!.id);
    const keys = await server.keys('acc:user:*');
    expect(keys.sort()).toEqual(
      [
        `acc:user:${created!.id}`,
        `acc:user:${created!.id}:password`,
        `acc:user:${created!.id}:roles`,
        'acc:user:id:',
      ].sort(),
    );
  });
});
