import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@lattice/config';
import { createApp } from '@lattice/http';
import { RedisServer } from '@lattice/testing';
import { AuthModule } from '../auth.module';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';

const PASSWORD = 'correct-horse-1';

/**
 * Registration and login when Redis loses data at the worst moment, with the
 * fault injected between two steps of the real auth app (built in process) on
 * a real redis-server.
 */
describe('AccountsService when Redis loses data mid-way', () => {
  let server: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  let app: NestFastifyApplication;
  let service: AccountsService;
  let repository: AccountsRepository;

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = server.client();
    const config = loadConfig('auth', { REDIS_URL: server.url, LOG_LEVEL: 'fatal' });
    app = await createApp(config, AuthModule.forRoot(config));
    await app.init();
    service = app.get(AccountsService);
    repository = app.get(AccountsRepository);
  });

  afterAll(async () => {
    raw?.disconnect();
    await app?.close();
    await server?.dispose();
  });

  afterEach(() => jest.restoreAllMocks());

  it('never maps a login to an id that another account took after a wipe', async () => {
    const claim = repository.claimLogin.bind(repository);
    let hijacked: string | undefined;
    jest.spyOn(repository, 'claimLogin').mockImplementation(async (login, id) => {
      if (!hijacked) {
        // Everything is lost after the account was written, and another account takes its id.
        hijacked = id;
        await raw.flushall();
        await raw.hset(`user:${id}`, { login: 'other', id, signup: 1, gen: 'other-generation' });
        await raw.set('user:id:', id);
      }
      return claim(login, id);
    });

    const created = await service.register({ login: 'First', name: 'F', password: PASSWORD });

    expect(created.login).toBe('First');
    expect(created.id).not.toBe(hijacked);
    expect(await raw.hget('users:', 'first')).toBe(created.id);
    expect(await raw.hget(`user:${hijacked}`, 'login')).toBe('other');
  });

  it('signs nobody in through a login that maps to another account, and lets it be registered again', async () => {
    const real = await service.register({ login: 'Real', name: 'R', password: PASSWORD });
    // What a partial loss can leave: a login mapped to an id that now holds another account.
    await raw.hset('users:', 'ghost', real.id);

    await expect(service.verifyCredentials('ghost', PASSWORD)).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    const ghost = await service.register({ login: 'Ghost', name: 'G', password: PASSWORD });
    expect(ghost.id).not.toBe(real.id);
    expect((await service.verifyCredentials('ghost', PASSWORD)).profile).toMatchObject({
      id: ghost.id,
      login: 'Ghost',
    });
    expect((await service.verifyCredentials('real', PASSWORD)).profile.id).toBe(real.id);
  });
});
