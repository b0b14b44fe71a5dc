import { Controller, Injectable, Param, Post, type DynamicModule } from '@nestjs/common';
import { Public } from '@lattice/common';
import { RedisServer, sleep } from '@lattice/testing';
import { startTestApp, type TestApp } from '../../../test/fixtures/test-app';
import { currentLock } from './lock.context';
import { LockModule } from './lock.module';
import { WithLock } from './with-lock.decorator';

@Injectable()
class Registrations {
  readonly active = new Map<string, number>();
  most = 0;

  @WithLock('user:{login}', { ttlMs: 2000, retryDelayMs: 10, retryJitterMs: 10 })
  async register(login: string, workMs: number): Promise<bigint> {
    const now = (this.active.get(login) ?? 0) + 1;
    this.active.set(login, now);
    this.most = Math.max(this.most, now);
    await sleep(workMs);
    this.active.set(login, now - 1);
    return currentLock()!.token;
  }
}

@Public()
@Controller('documents')
class DocumentsController {
  constructor(readonly registrations: Registrations) {}

  // Route decorators above @WithLock see the wrapped method...
  @Post(':id/edit')
  @WithLock('doc:{id}', { retryCount: 0 })
  async edit(@Param('id') id: string) {
    await sleep(300);
    return { id, token: currentLock()!.token.toString() };
  }

  // ...and below it, their metadata is carried over to the wrapper.
  @WithLock((id: string) => [`doc:${id}`, 'archive'], { retryCount: 0 })
  @Post(':id/archive')
  async archive(@Param('id') id: string) {
    return { id, resources: currentLock()!.lock.resources };
  }
}

describe('@WithLock in a Nest app', () => {
  let server: RedisServer;
  let app: TestApp;
  let registrations: Registrations;

  beforeAll(async () => {
    server = await RedisServer.start();
    class FeatureModule {}
    const feature: DynamicModule = {
      module: FeatureModule,
      // As an app's feature module says what it uses: @WithLock needs LockService.
      imports: [LockModule],
      providers: [Registrations],
      controllers: [DocumentsController],
    };
    app = await startTestApp({
      env: { REDIS_URL: server.url },
      imports: [feature],
    });
    registrations = app.app.get(Registrations);
  });

  afterAll(async () => {
    await app?.close();
    await server?.dispose();
  });

  it('serialises calls on the same resource, each with its own token, and runs others in parallel', async () => {
    const started = Date.now();
    const tokens = await Promise.all([
      registrations.register('alice', 150),
      registrations.register('alice', 150),
      registrations.register('alice', 150),
      registrations.register('bob', 150),
    ]);
    expect(registrations.most).toBe(1);
    expect(new Set(tokens).size).toBe(4);
    // bob did not wait for alice's three turns.
    expect(Date.now() - started).toBeLessThan(4 * 150 + 1000);
  });

  it('answers a request whose lock is busy with 409 LOCK_NOT_ACQUIRED, naming no internals', async () => {
    const edit = () => fetch(app.url('/documents/7/edit'), { method: 'POST' });
    const [first, second] = await Promise.all([edit(), sleep(50).then(edit)]);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ id: '7', token: expect.stringMatching(/^\d+$/) });
    expect(second.status).toBe(409);
    const body = (await second.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: 409, code: 'LOCK_NOT_ACQUIRED' });
    expect(JSON.stringify(body)).not.toContain('doc:7');
  });

  it('keeps route metadata whichever side of the route decorator it sits', async () => {
    const res = await fetch(app.url('/documents/8/archive'), { method: 'POST' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: '8', resources: ['archive', 'doc:8'] });
  });
});
