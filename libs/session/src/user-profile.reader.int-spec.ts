import { ConfigService, loadConfig } from '@lattice/config';
import { RedisService } from '@lattice/redis';
import { RedisServer } from '@lattice/testing';
import { UserProfileReader } from './user-profile.reader';

describe('UserProfileReader against a real redis-server', () => {
  let server: RedisServer;
  let redis: RedisService;
  let profiles: UserProfileReader;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new RedisService(
      new ConfigService(loadConfig('realtime', { REDIS_URL: server.url, KEY_PREFIX: 'app:' })),
    );
    redis.onModuleInit();
    await redis.whenReady(5000);
    profiles = new UserProfileReader(redis);
  });

  afterAll(async () => {
    await redis?.onApplicationShutdown();
    await server?.dispose();
  });

  it("reads the display name from auth's profile hash, under KEY_PREFIX", async () => {
    const raw = server.client();
    await raw.hset('app:user:7', { login: 'ada', name: 'Ada Lovelace' });
    await raw.hset('app:user:8', { login: 'bob', name: '' });
    raw.disconnect();
    expect(await profiles.displayName('7', 'ada')).toBe('Ada Lovelace');
    expect(await profiles.displayName('8', 'bob')).toBe('bob');
    expect(await profiles.displayName('9', 'nobody')).toBe('nobody');
  });

  it('answers the fallback when Redis cannot be read', async () => {
    await server.stop();
    expect(await profiles.displayName('7', 'ada')).toBe('ada');
    await server.restart();
  });
});
