import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppProcess, freePort, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { EchoUpstream, pattern, patternSha256, type Seen } from '../fixtures/gateway/echo-upstream';
import { PresenceClient } from '../fixtures/presence/presence-client';

const CACHE_SYNC_TOKEN = 'gateway-e2e-token-0123456789';
const ROUTE_TABLE_KEY = 'gateway:routes';

/**
 * The gateway as a client meets it (CONTRACT 4, 4.4, 5): one origin in front
 * of the auth and realtime apps and of upstream services, all real processes.
 * The client below never talks to anything but a gateway.
 */
describe('the gateway as the only origin a client knows', () => {
  let redis: TestRedis;
  let upstream: EchoUpstream;
  let deadUpstream: string;
  let auth: AppProcess;
  let realtime: AppProcess;
  let gateway: AppProcess;
  let otherGateway: AppProcess;
  let token: string;
  let userId: string;
  let sessionId: string;

  const call = (path: string, init: RequestInit = {}, app = gateway) => fetch(app.url(path), init);
  const asUser = (headers: Record<string, string> = {}) => ({
    ...headers,
    authorization: `Bearer ${token}`,
  });
  const echo = async (res: Response): Promise<Seen> => {
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream')).toBe('echo');
    return (await res.json()) as Seen;
  };
  const cacheEvent = (event: unknown, app = gateway) =>
    call(
      '/api/cache/events',
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${CACHE_SYNC_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(event),
      },
      app,
    );

  beforeAll(async () => {
    [redis, upstream] = await Promise.all([startTestRedis(), EchoUpstream.start()]);
    deadUpstream = `http://127.0.0.1:${await freePort()}`;
    const platform = { ...redis.env, TRUST_PROXY: 'true' };
    [auth, realtime] = await Promise.all([
      AppProcess.start('auth', platform),
      AppProcess.start('realtime', platform),
    ]);
    const gatewayEnv = {
      ...redis.env,
      AUTH_URL: auth.url(''),
      REALTIME_URL: realtime.url(''),
      CACHE_SYNC_TOKEN,
      // Short enough for the 504 test's slow answer (3 s), long enough that this
      // process (the upstream and the client of the 24 MiB download) may stall
      // under a loaded CI without the download's body timing out.
      UPSTREAM_TIMEOUT_MS: '2000',
      ROUTES: JSON.stringify([
        { prefix: '/orders', upstream: upstream.url, auth: 'required' },
        { prefix: '/catalog', upstream: upstream.url, auth: 'optional' },
        { prefix: '/public', upstream: upstream.url, auth: 'none' },
        { prefix: '/limited', upstream: upstream.url, auth: 'optional', rateLimit: '3/60' },
        { prefix: '/down', upstream: deadUpstream, auth: 'none' },
        { prefix: '/based', upstream: `${upstream.url}/base/`, auth: 'none' },
      ]),
    };
    [gateway, otherGateway] = await Promise.all([
      AppProcess.start('gateway', gatewayEnv),
      AppProcess.start('gateway', gatewayEnv),
    ]);
    await Promise.all(
      [auth, realtime, gateway, otherGateway].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );

    // Registration and login through the gateway only.
    const registered = await call('/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'Grace', name: 'Grace Hopper', password: 'password-123' }),
    });
    expect(registered.status).toBe(201);
    const login = await call('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'grace', password: 'password-123' }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toMatch(/^sid=[^;]+;.*HttpOnly/);
    const body = (await login.json()) as {
      token: string;
      user: { id: string };
      session: { id: string };
    };
    ({ token } = body);
    userId = body.user.id;
    sessionId = body.session.id;
  });

  afterAll(async () => {
    await Promise.all([auth, realtime, gateway, otherGateway].map((app) => app?.kill()));
    await upstream?.close();
    await redis?.dispose();
  });

  it('serves the auth app at /auth: the session works by bearer and by cookie', async () => {
    const me = await call('/auth/me', { headers: asUser() });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { id: userId, login: 'Grace' } });
    const byCookie = await call('/auth/me', { headers: { cookie: `sid=${token}` } });
    expect(byCookie.status).toBe(200);
    expect((await call('/auth/me')).status).toBe(401);
  });

  it('forwards method, path, query, body and status intact, with the request id', async () => {
    const res = await call('/public/items/42?sort=desc&tag=a&tag=b', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc-123' },
      body: JSON.stringify({ quantity: 3 }),
    });
    const seen = await echo(res);
    expect(seen).toMatchObject({ method: 'PATCH', url: '/public/items/42?sort=desc&tag=a&tag=b' });
    expect(seen.bodySha256).toBe(
      createHash('sha256')
        .update(JSON.stringify({ quantity: 3 }))
        .digest('hex'),
    );
    expect(seen.headers['x-request-id']).toBe('trace-abc-123');
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    expect((await call('/public/missing?status=404')).status).toBe(404);
    // An upstream with a base path receives it in front of the whole request path.
    expect((await echo(await call('/based/x?y=1'))).url).toBe('/base/based/x?y=1');
  });

  it('answers auth: "required" with 401 at the edge, without reaching the upstream', async () => {
    const before = upstream.seen.length;
    const res = await call('/orders/1', { method: 'DELETE' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
    expect(upstream.seen.length).toBe(before);
  });

  it('passes the caller’s identity, never a spoofed one, and keeps the session token to itself', async () => {
    const spoof = {
      'x-user-id': '999',
      'x-user-login': 'root',
      'x-user-roles': 'admin',
      'x-session-id': 'forged',
    };
    const signedIn = await echo(
      await call('/orders/7', { headers: asUser({ ...spoof, cookie: 'theme=dark' }) }),
    );
    expect(signedIn.headers).toMatchObject({
      'x-user-id': userId,
      'x-user-login': 'Grace',
      'x-user-roles': '',
      'x-session-id': sessionId,
      cookie: 'theme=dark',
    });
    expect(signedIn.headers.authorization).toBeUndefined();

    const byCookie = await echo(
      await call('/catalog', { headers: { ...spoof, cookie: `sid=${token}; theme=dark` } }),
    );
    expect(byCookie.headers).toMatchObject({ 'x-user-id': userId, cookie: 'theme=dark' });

    const anonymous = await echo(await call('/catalog', { headers: spoof }));
    for (const name of Object.keys(spoof)) expect(anonymous.headers[name]).toBeUndefined();

    // auth: "none" leaves credentials to the upstream, and still strips identity headers.
    const none = await echo(await call('/public', { headers: asUser(spoof) }));
    expect(none.headers.authorization).toBe(`Bearer ${token}`);
    for (const name of Object.keys(spoof)) expect(none.headers[name]).toBeUndefined();
  });

  it('refuses a cookie-authenticated write from a foreign origin', async () => {
    const res = await call('/orders', {
      method: 'POST',
      headers: { cookie: `sid=${token}`, origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('applies a route’s own rate limit on top of the defaults', async () => {
    const statuses: number[] = [];
    let last!: Response;
    for (let i = 0; i < 4; i++) {
      last = await call('/limited/x', { headers: asUser() });
      statuses.push(last.status);
      if (last.status === 200) await last.json();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last.headers.get('ratelimit-policy')).toBe(
      '"user";q=1200;w=60, "route.limited";q=3;w=60',
    );
    expect(last.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await last.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    // The other instance shares the count.
    expect((await call('/limited/x', { headers: asUser() }, otherGateway)).status).toBe(429);
  });

  it('answers 502 when an upstream is down and 504 when it is too slow', async () => {
    const down = await call('/down/x?token=s3cret-in-query');
    expect(down.status).toBe(502);
    const requestId = down.headers.get('x-request-id')!;
    expect(await down.json()).toMatchObject({
      statusCode: 502,
      code: 'BAD_GATEWAY',
      requestId,
    });
    // Logged with the request's id, without its query string.
    await waitFor('the upstream failure to be logged', () => gateway.logs.includes(requestId));
    const logged = gateway.logs.split('\n').find((line) => line.includes(requestId))!;
    expect(JSON.parse(logged)).toMatchObject({
      level: 40,
      requestId,
      msg: expect.stringMatching(/^GET \/down\/x: upstream failed/),
    });
    expect(gateway.logs).not.toContain('s3cret-in-query');
    const slow = await call('/public/slow?ms=3000');
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ statusCode: 504, code: 'GATEWAY_TIMEOUT' });
    // A quick answer on the same route is unaffected.
    expect((await call('/public/slow?ms=10')).status).toBe(200);
  });

  it('forwards request bodies up to 1 MiB whole, and streams answers far beyond it', async () => {
    const chunk = pattern();
    const upload = Readable.from([
      chunk.subarray(0, chunk.length / 2),
      chunk.subarray(chunk.length / 2),
    ]);
    const res = await call('/public/upload', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(upload) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const seen = await echo(res);
    expect(seen.bodyBytes).toBe(chunk.length);
    expect(seen.bodySha256).toBe(patternSha256(1));

    const mib = 24;
    const download = await call(`/public/download?mib=${mib}`);
    expect(download.status).toBe(200);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const part of download.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += part.length;
      hash.update(part);
    }
    expect(bytes).toBe(mib * chunk.length);
    expect(hash.digest('hex')).toBe(patternSha256(mib));
  });

  it('opens Socket.IO connections to the realtime app through /socket.io', async () => {
    await expect(PresenceClient.connect(gateway.url(''))).rejects.toMatchObject({
      message: 'UNAUTHENTICATED',
    });
    const byToken = await PresenceClient.connect(gateway.url(''), { token });
    const byCookie = await PresenceClient.connect(otherGateway.url(''), { cookie: `sid=${token}` });
    try {
      const joined = await byToken.join('gateway-room');
      expect(joined).toMatchObject({ ok: true, members: [{ userId, login: 'Grace' }] });
      expect((await byCookie.join('gateway-room')).ok).toBe(true);
      const listed = await call('/realtime/presence/gateway-room', { headers: asUser() });
      expect(listed.status).toBe(200);
      expect(await listed.json()).toMatchObject({
        channel: 'gateway-room',
        members: [{ userId, connections: 2 }],
      });
    } finally {
      byToken.close();
      byCookie.close();
    }
    // A page of another origin cannot ride on the cookie through the gateway either.
    await expect(
      PresenceClient.connect(gateway.url(''), {
        cookie: `sid=${token}`,
        origin: 'https://evil.example',
      }),
    ).rejects.toMatchObject({ message: 'FORBIDDEN' });
  });

  it('changes the route table on every instance at once through a cache-sync event', async () => {
    expect((await call('/inventory/1')).status).toBe(404);
    const table = [{ prefix: '/inventory', upstream: upstream.url, auth: 'none' }];
    const set = await cacheEvent({
      key: 'SET',
      value: { data: { key: ROUTE_TABLE_KEY, value: table } },
    });
    expect(set.status).toBe(200);
    for (const app of [gateway, otherGateway]) {
      await waitFor('the new route', async () => (await call('/inventory/1', {}, app)).ok, 2_000);
      // ROUTES no longer applies while the table in the cache does.
      expect((await call('/public/x', {}, app)).status).toBe(404);
    }

    const invalid = await cacheEvent({
      key: 'SET',
      value: { data: { key: ROUTE_TABLE_KEY, value: [{ prefix: '/auth', upstream: 'ftp://x' }] } },
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ code: 'INVALID_EVENT' });

    const deleted = await cacheEvent({ key: 'DELETE', value: { data: { key: ROUTE_TABLE_KEY } } });
    expect(deleted.status).toBe(200);
    for (const app of [gateway, otherGateway]) {
      await waitFor(
        'ROUTES again',
        async () => (await call('/inventory/1', {}, app)).status === 404,
        2_000,
      );
      expect((await call('/public/x', {}, app)).status).toBe(200);
    }
  });

  it('answers paths no route serves with the contract’s 404', async () => {
    const res = await call('/nowhere/at/all');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    expect(res.headers.get('ratelimit-policy')).toBe('"ip";q=600;w=60');
  });
});
