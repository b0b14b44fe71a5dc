import { AppProcess, RedisServer, sleep, waitFor } from '@lattice/testing';

const status = async (proc: AppProcess, path: string) =>
  (await fetch(proc.url(path)).catch(() => null))?.status ?? 0;

/**
 * Standalone only (not in jest project e2e-cluster): it stops and restarts one
 * redis-server. test/e2e/sentinel-failover.e2e-spec.ts shows readiness across
 * a Sentinel failover.
 */
describe('readiness follows Redis; liveness does not', () => {
  let redis: RedisServer;
  let app: AppProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    app = await AppProcess.start('auth', { REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await app?.kill();
    await redis?.dispose();
  });

  it('goes 503 while Redis is down and back to 200 when it returns, without a restart', async () => {
    await waitFor('ready', async () => (await status(app, '/health/ready')) === 200);
    const pid = app.pid;

    await redis.stop();
    await waitFor('not ready', async () => (await status(app, '/health/ready')) === 503, 5_000);
    const res = await fetch(app.url('/health/ready'));
    expect(await res.json()).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE' });
    for (let i = 0; i < 5; i++) {
      expect(await status(app, '/health/live')).toBe(200);
      await sleep(100);
    }

    await redis.restart();
    await waitFor('ready again', async () => (await status(app, '/health/ready')) === 200, 10_000);
    expect(await status(app, '/health/live')).toBe(200);
    expect(app.pid).toBe(pid);
  });

  it('answers readiness 503 as soon as SIGTERM arrives, then exits 0', async () => {
    const draining = await AppProcess.start('gateway', {
      REDIS_URL: redis.url,
      SHUTDOWN_DELAY_MS: '1500',
    });
    await waitFor('ready', async () => (await status(draining, '/health/ready')) === 200);
    const exit = draining.stop('SIGTERM');
    await waitFor(
      'not ready',
      async () => (await status(draining, '/health/ready')) === 503,
      1_000,
      20,
    );
    expect(await status(draining, '/health/live')).toBe(200);
    expect(await exit).toBe(0);
  });
});
