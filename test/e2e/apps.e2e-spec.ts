import {
  AppProcess,
  startTestRedis,
  waitFor,
  type AppName,
  type TestRedis,
} from '@lattice/testing';

const APPS: AppName[] = ['gateway', 'auth', 'realtime'];
const CACHE_SYNC_TOKEN = 'apps-e2e-sync-token-0123456789';

describe('the three apps as real processes', () => {
  let redis: TestRedis;
  const running = new Map<AppName, AppProcess>();

  beforeAll(async () => {
    redis = await startTestRedis();
    await Promise.all(
      APPS.map(async (app) =>
        // The gateway at `info`, so that its request log can be read whole.
        running.set(
          app,
          await AppProcess.start(app, {
            ...redis.env,
            ...(app === 'gateway' ? { LOG_LEVEL: 'info', CACHE_SYNC_TOKEN } : {}),
          }),
        ),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all([...running.values()].map((p) => p.kill()));
    await redis?.dispose();
  });

  it.each(APPS)('%s is live, becomes ready and serves metrics', async (app) => {
    const proc = running.get(app)!;
    const live = await fetch(proc.url('/health/live'));
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    await waitFor(
      `${app} ready`,
      async () => (await fetch(proc.url('/health/ready'))).status === 200,
    );
    const metrics = await fetch(proc.url('/metrics'));
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('lattice_http_request_duration_seconds_bucket');
    expect(text).toContain('lattice_redis_commands_total');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('the gateway answers GET /api/ping with a request id', async () => {
    const res = await fetch(running.get('gateway')!.url('/api/ping'), {
      headers: { 'x-request-id': 'e2e-1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('e2e-1');
    expect(await res.json()).toEqual({ pong: true });
  });

  it('every app answers an unknown route with the contract error body', async () => {
    for (const app of APPS) {
      const res = await fetch(running.get(app)!.url('/nowhere'));
      expect(res.status).toBe(404);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toEqual({
        statusCode: 404,
        code: 'NOT_FOUND',
        message: expect.any(String),
        requestId: res.headers.get('x-request-id'),
      });
    }
  });

  it('logs every request once, as JSON with its request id, level by status', async () => {
    const gateway = running.get('gateway')!;
    const logged = (id: string) =>
      gateway.logs
        .split('\n')
        .filter((line) => line.includes(id))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await fetch(gateway.url('/health/live'), { headers: { 'x-request-id': 'log-probe-1' } });
    await fetch(gateway.url('/api/ping'), { headers: { 'x-request-id': 'log-trace-6' } });
    await fetch(gateway.url('/api/missing?token=s3cret'), {
      headers: { 'x-request-id': 'log-trace-7', authorization: 'Bearer s3cret' },
    });
    await waitFor('the requests to be logged', () => logged('log-trace-7').length > 0);
    expect(logged('log-trace-6')).toEqual([
      expect.objectContaining({
        level: 30,
        app: 'gateway',
        req: { id: 'log-trace-6', method: 'GET', url: '/api/ping' },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
        msg: 'request completed',
      }),
    ]);
    expect(logged('log-trace-7')).toEqual([
      expect.objectContaining({
        level: 40,
        req: { id: 'log-trace-7', method: 'GET', url: '/api/missing' },
        res: { statusCode: 404 },
      }),
    ]);
    // Probes are not logged; query strings and credentials never are.
    expect(logged('log-probe-1')).toEqual([]);
    expect(gateway.logs).not.toContain('s3cret');
  });

  it('puts the request id on the lines a service writes while the request runs', async () => {
    const gateway = running.get('gateway')!;
    const answer = await fetch(gateway.url('/api/cache/events'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${CACHE_SYNC_TOKEN}`,
        'x-request-id': 'log-context-1',
      },
      body: JSON.stringify({ key: 'DELETE_PATTERN', value: { data: { pattern: 'apps-e2e:*' } } }),
    });
    expect(answer.status).toBe(200);
    // The cache service's own line, written once its Redis calls have answered: nothing
    // hands it the request, so the id can only come from the request context.
    const line = await waitFor('the cache service to log the event', () =>
      gateway.logs
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => String(l.msg).startsWith('DELETE_PATTERN apps-e2e:*')),
    );
    expect(line).toMatchObject({ level: 30, requestId: 'log-context-1' });
  });

  it.each(APPS)('%s exits 0 on SIGTERM', async (app) => {
    const code = await running.get(app)!.stop('SIGTERM');
    expect(code).toBe(0);
    running.delete(app);
  });
});
