import { RedisService } from '@lattice/redis';
import {
  RedisCluster,
  RedisServer,
  sleep,
  startPlatform,
  type PlatformInstance,
} from '@lattice/testing';
import { PresenceModule } from './presence.module';
import { SocketRoutesRepository } from './socket-routes.repository';

const PREFIX = 'it:';

/** Session routes and the instance registry against a real redis-server, standalone and clustered. */
describe.each(['standalone', 'cluster'])('socket routes in Redis (%s)', (mode) => {
  let server: RedisServer | RedisCluster;
  let platform: PlatformInstance;
  let routes: SocketRoutesRepository;

  beforeAll(async () => {
    server = mode === 'cluster' ? await RedisCluster.start() : await RedisServer.start();
    platform = await startPlatform({
      app: 'realtime',
      env: { ...server.env, KEY_PREFIX: PREFIX },
      imports: [PresenceModule],
    });
    expect(await platform.get(RedisService).whenReady(10_000)).toBe(true);
    routes = platform.get(SocketRoutesRepository);
  });

  afterAll(async () => {
    await platform?.close();
    await server?.dispose();
  });

  it('records, renews and forgets the owner of a session, under KEY_PREFIX', async () => {
    await routes.record('AAAAAAAAAAAAAAAAAAAA', 'http://10.0.0.1:3002', 60_000);
    expect(await routes.ownerOf('AAAAAAAAAAAAAAAAAAAA')).toBe('http://10.0.0.1:3002');
    const raw = server.client();
    expect(await raw.get(`${PREFIX}realtime:session:AAAAAAAAAAAAAAAAAAAA`)).toBe(
      'http://10.0.0.1:3002',
    );
    raw.disconnect();

    await routes.renew(
      ['AAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBB'],
      'http://10.0.0.1:3002',
      300,
    );
    expect(await routes.ownerOf('BBBBBBBBBBBBBBBBBBBB')).toBe('http://10.0.0.1:3002');
    await sleep(500);
    expect(await routes.ownerOf('AAAAAAAAAAAAAAAAAAAA')).toBeNull();

    await routes.record('CCCCCCCCCCCCCCCCCCCC', 'http://10.0.0.1:3002', 60_000);
    await routes.forget('CCCCCCCCCCCCCCCCCCCC');
    expect(await routes.ownerOf('CCCCCCCCCCCCCCCCCCCC')).toBeNull();
  });

  it('never looks up what is not a session id', async () => {
    await routes.record('*', 'http://10.0.0.1:3002', 60_000);
    expect(await routes.ownerOf('*')).toBeNull();
    expect(await routes.ownerOf('')).toBeNull();
    expect(await routes.ownerOf('a'.repeat(65))).toBeNull();
  });

  it('knows an announced instance until its announcement lapses or it withdraws', async () => {
    expect(await routes.isInstance('http://10.0.0.2:3002')).toBe(false);
    await routes.announce('http://10.0.0.2:3002', 300);
    await routes.announce('http://10.0.0.3:3002', 60_000);
    expect(await routes.isInstance('http://10.0.0.2:3002')).toBe(true);
    expect(await routes.isInstance('http://10.0.0.3:3002')).toBe(true);
    await sleep(500);
    expect(await routes.isInstance('http://10.0.0.2:3002')).toBe(false);
    await routes.withdraw('http://10.0.0.3:3002');
    expect(await routes.isInstance('http://10.0.0.3:3002')).toBe(false);
  });
});
