import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@lattice/config';
import { createApp } from '@lattice/http';
import { SessionService } from '@lattice/session';
import { RedisServer } from '@lattice/testing';
import { AccountsService } from '../accounts/accounts.service';
import { AuthModule } from '../auth.module';
import { UsersAdminService } from './users-admin.service';

const PASSWORD = 'correct-horse-1';

/**
 * A login that verified the password just before an admin changed the
 * account, and opens its session just after: the real auth app in process
 * on a real redis-server, the admin's change injected between the two steps.
 */
describe('a login racing an admin change of the account', () => {
  let server: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  let app: NestFastifyApplication;
  let accounts: AccountsService;
  let admin: UsersAdminService;
  let sessions: SessionService;

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = server.client();
    const config = loadConfig('auth', { REDIS_URL: server.url, LOG_LEVEL: 'fatal' });
    app = await createApp(config, AuthModule.forRoot(config));
    await app.listen(0, '127.0.0.1');
    accounts = app.get(AccountsService);
    admin = app.get(UsersAdminService);
    sessions = app.get(SessionService);
  });

  afterAll(async () => {
    raw?.disconnect();
    await app?.close();
    await server?.dispose();
  });

  afterEach(() => jest.restoreAllMocks());

  /** Runs `change` right before the login's session is written, once. */
  function beforeSessionOpens(change: () => Promise<void>): void {
    const create = sessions.create.bind(sessions);
    jest.spyOn(sessions, 'create').mockImplementationOnce(async (...args) => {
      await change();
      return create(...args);
    });
  }

  const login = (name: string) =>
    fetch(`${urlOf(app)}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: name, password: PASSWORD }),
    });

  it('refuses it with ACCOUNT_SUSPENDED and leaves no session when the account was suspended', async () => {
    const user = await accounts.register({ login: 'Late', name: 'L', password: PASSWORD });
    beforeSessionOpens(() => admin.suspend(user.id));

    const res = await login('Late');

    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    expect(await raw.keys(`session:{${user.id}}:*`)).toEqual([]);
  });

  it('gives its session the roles the admin set meanwhile', async () => {
    const user = await accounts.register({ login: 'Promo', name: 'P', password: PASSWORD });
    beforeSessionOpens(async () => {
      await admin.setRoles(user.id, ['editor']);
    });

    const res = await login('Promo');

    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { roles: string[] } };
    expect(body.user.roles).toEqual(['editor']);
    const [session] = await raw.keys(`session:{${user.id}}:*`);
    expect(await raw.hget(session, 'roles')).toBe('editor');
  });
});

function urlOf(app: NestFastifyApplication): string {
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}
