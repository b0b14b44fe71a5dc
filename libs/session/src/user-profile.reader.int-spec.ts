import { RedisService } from '@lattice/redis';
import { RedisServer, startPlatform, type PlatformInstance } from '@lattice/testing';
import { SessionModule } from './session.module';
import { UserProfileReader } from './user-profile.reader';

describe('UserProfileReader against a real redis-server', () => {
  let server: RedisServer;
  let platform: PlatformInstance;
  let profiles: UserProfileReader;

  beforeAll(async () => {
    server = await RedisServer.start();
    platform = await startPlatform({
      app: 'realtime',
      env: { REDIS_URL: server.url, KEY_PREFIX: 'app:' },
      imports: [SessionModule],
    });
    await platform.get(RedisService).whenReady(5000);
    profiles = platform.get(UserProfileReader);
  });

  afterAll(async () => {
    await platform?.close();
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
