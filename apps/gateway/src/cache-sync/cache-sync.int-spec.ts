import { CacheModule } from '@lattice/cache';
import { SessionService } from '@lattice/session';
import { RedisServer, sleep, waitFor } from '@lattice/testing';
import { CacheSyncModule } from './cache-sync.module';
import { BlobServer } from '../../../../test/fixtures/cache/blob-server';
import { startTestApp, type TestApp } from '../../../../test/fixtures/test-app';

jest.setTimeout(60_000);

const TOKEN = 'sync-token-0123456789abcdef';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Cache-sync in two gateway apps built in process (the e2e suite runs the
 * built gateway as real processes): who may send events, and the stream
 * consumer's retries, claims and dead letters with short timings.
 */
describe('cache-sync in process', () => {
  let redis: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  let blobs: BlobServer;
  let one: TestApp;
  let two: TestApp;
  let adminToken: string;
  let userToken: string;

  const start = () =>
    startTestApp({
      env: {
        REDIS_URL: redis.url,
        KEY_PREFIX: 'lat:',
        CACHE_SYNC_TOKEN: TOKEN,
        CACHE_SYNC_ALLOWED_HOSTS: blobs.host,
        RATE_LIMIT_IP: '100000/60',
        RATE_LIMIT_USER: '100000/60',
        ALLOWED_ORIGINS: 'https://admin.example.com',
      },
      imports: [
        CacheModule.forRoot(),
        CacheSyncModule.forRoot({ consumer: { blockMs: 100, claimIdleMs: 500, maxDeliveries: 3 } }),
      ],
    });

  async function send(
    app: TestApp,
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  ): Promise<Answer> {
    const res = await fetch(app.url('/api/cache/events'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = redis.client();
    blobs = await BlobServer.start();
    [one, two] = await Promise.all([start(), start()]);
    for (const app of [one, two]) {
      await waitFor(
        'the app to be ready',
        async () => (await fetch(app.url('/health/ready'))).status === 200,
      );
    }
    const sessions = one.app.get(SessionService);
    const meta = { ip: '127.0.0.1', userAgent: 'jest' };
    adminToken = (await sessions.create({ id: '1', login: 'root', roles: ['admin'] }, meta)).token;
    userToken = (await sessions.create({ id: '2', login: 'someone', roles: [] }, meta)).token;
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([one, two].map((app) => app?.close()));
    await blobs?.close();
    await redis?.dispose();
  });

  const get = { key: 'GET', value: { data: { key: 'auth:probe' } } };

  describe('who may send events', () => {
    it('refuses a caller without credentials (401) or with a wrong token (401)', async () => {
      expect(await send(one, get, {})).toMatchObject({
        status: 401,
        body: { code: 'UNAUTHENTICATED' },
      });
      const wrong = await send(one, get, { authorization: 'Bearer not-the-token-at-all' });
      expect(wrong).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
      const prefix = await send(one, get, { authorization: `Bearer ${TOKEN.slice(0, -1)}` });
      expect(prefix.status).toBe(401);
    });

    it('accepts the CACHE_SYNC_TOKEN', async () => {
      expect(await send(one, get)).toEqual({
        status: 200,
        body: { key: 'auth:probe', hit: false, value: null },
      });
    });

    it('accepts an admin session, refuses any other (403)', async () => {
      expect((await send(one, get, { authorization: `Bearer ${adminToken}` })).status).toBe(200);
      expect((await send(two, get, { cookie: `sid=${adminToken}` })).status).toBe(200);
      const user = await send(one, get, { authorization: `Bearer ${userToken}` });
      expect(user).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    });

    it('refuses an admin cookie sent from a foreign origin', async () => {
      const res = await send(one, get, {
        cookie: `sid=${adminToken}`,
        origin: 'https://evil.example.com',
      });
      expect(res).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    });
  });

  describe('nesting depth', () => {
    // The event's own envelope takes three levels: { value: { data: { value: … } } }.
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const post = (key: string, levels: number) =>
      fetch(one.url('/api/cache/events'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: `{"key":"SET","value":{"data":{"key":"${key}","value":${nested(levels)}}}}`,
      });

    it('stores a value that keeps the whole event within 32 levels', async () => {
      expect((await post('http:deepest', 29)).status).toBe(200);
      expect(await raw.exists('lat:cache:http:deepest')).toBe(1);
    });

    it('answers 400 naming the maximum, never 500, for anything deeper', async () => {
      for (const levels of [30, 2500, 100_000]) {
        const res = await post('http:deep', levels);
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({
          code: 'VALIDATION_FAILED',
          message: expect.stringMatching(/more than 32 levels deep/),
        });
      }
      expect(await raw.exists('lat:cache:http:deep')).toBe(0);
    });
  });

  describe('the stream cache-sync:events', () => {
    const xadd = (event: unknown) =>
      raw.xadd(
        'lat:cache-sync:events',
        '*',
        'event',
        typeof event === 'string' ? event : JSON.stringify(event),
      );
    const deadLetters = async () =>
      (await raw.xrange('lat:cache-sync:dead', '-', '+')).map(([, fields]) => {
        const entry: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
        return entry;
      });
    const pendingCount = async () =>
      ((await raw.xpending('lat:cache-sync:events', 'cache-sync')) as [number])[0];

    it('applies an event once, on one instance, and acknowledges it', async () => {
      await send(one, { key: 'GET', value: { data: { key: 'stream:1' } } }); // nothing cached yet
      const id = await xadd({
        key: 'SET',
        value: { data: { key: 'stream:1', value: { n: 1 } }, ttl: '60' },
      });
      await waitFor(
        'the event to be applied',
        async () =>
          (await send(two, { key: 'GET', value: { data: { key: 'stream:1' } } })).body.hit === true,
      );
      await waitFor('it to be acknowledged', async () => (await pendingCount()) === 0);
      const groups = (await raw.xinfo('GROUPS', 'lat:cache-sync:events')) as unknown[][];
      expect(groups[0]).toEqual(
        expect.arrayContaining(['name', 'cache-sync', 'last-delivered-id', id]),
      );
      expect(await raw.pttl('lat:cache:stream:1')).toBeGreaterThan(55_000);
    });

    it('moves unprocessable events to cache-sync:dead with the reason', async () => {
      const ids = [
        await xadd('this is not json'),
        await xadd({ key: 'EXPLODE', value: { data: {} } }),
        await xadd({
          key: 'SET',
          value: { data: { key: 'stream:blob', url: blobs.url('/missing') } },
        }),
        await raw.xadd('lat:cache-sync:events', '*', 'other', 'field'),
      ];
      await waitFor('four dead letters', async () => (await deadLetters()).length === 4);
      // Two consumers share the work, so the dead letters may be in any order: match them by id.
      const all = await deadLetters();
      const dead = ids.map((id) => all.find((d) => d.id === id)!);
      expect(dead.map((d) => d.code)).toEqual([
        'INVALID_EVENT',
        'INVALID_EVENT',
        'BLOB_FETCH_FAILED',
        'INVALID_EVENT',
      ]);
      expect(dead[0]).toMatchObject({
        event: 'this is not json',
        reason: 'the "event" field is not valid JSON',
        deliveries: '1',
      });
      expect(dead[1].reason).toMatch(/key: must be one of SET, GET, DELETE, DELETE_PATTERN/);
      expect(dead[2].reason).toMatch(/answered 404; nothing was stored/);
      expect(dead[3].reason).toMatch(/no "event" field/);
      expect(dead[0].consumer).toMatch(/^.+:\d+:[0-9a-f]{6}$/);
      expect(await pendingCount()).toBe(0);
      expect(await raw.exists('lat:cache:stream:blob')).toBe(0);
    });

    it('moves an event nested past the maximum depth to the dead letters at once', async () => {
      const deep = '['.repeat(3000) + ']'.repeat(3000);
      const id = await xadd(`{"key":"SET","value":{"data":{"key":"stream:deep","value":${deep}}}}`);
      await waitFor('its dead letter', async () => (await deadLetters()).some((d) => d.id === id));
      const dead = (await deadLetters()).find((d) => d.id === id)!;
      expect(dead).toMatchObject({ code: 'INVALID_EVENT', deliveries: '1' });
      expect(dead.reason).toMatch(/more than 32 levels deep/);
      expect(await pendingCount()).toBe(0);
      expect(await raw.exists('lat:cache:stream:deep')).toBe(0);
    });

    it('takes over the events of a consumer that died before acknowledging', async () => {
      // A consumer of the group reads an event and is never heard of again. Adding and reading it
      // in one transaction keeps the live consumers, blocked on the stream, from getting it first.
      const event = JSON.stringify({
        key: 'SET',
        value: { data: { key: 'stream:orphan', value: 'rescued' } },
      });
      const [[, id], [, read]] = (await raw
        .multi()
        .xadd('lat:cache-sync:events', '*', 'event', event)
        .xreadgroup(
          'GROUP',
          'cache-sync',
          'ghost',
          'COUNT',
          1,
          'STREAMS',
          'lat:cache-sync:events',
          '>',
        )
        .exec()) as [[null, string], [null, unknown]];
      expect(JSON.stringify(read)).toContain(id);
      const readAt = Date.now();
      await waitFor(
        'the event to be taken over and applied',
        async () =>
          (await send(one, { key: 'GET', value: { data: { key: 'stream:orphan' } } })).body
            .value === 'rescued',
        10_000,
      );
      expect(Date.now() - readAt).toBeGreaterThanOrEqual(500); // taken over only once idle for claimIdleMs
      await waitFor('nothing pending', async () => (await pendingCount()) === 0);
      const consumers = (await raw.xinfo(
        'CONSUMERS',
        'lat:cache-sync:events',
        'cache-sync',
      )) as unknown[][];
      const ghost = consumers.find((c) => c[1] === 'ghost')!;
      expect(ghost[3]).toBe(0);
    });

    it('retries a passing failure, and gives up after maxDeliveries', async () => {
      await xadd({
        key: 'SET',
        value: { data: { key: 'stream:flaky', url: blobs.url('/flaky') } },
      });
      await waitFor(
        'the retry to succeed',
        async () =>
          (await send(one, { key: 'GET', value: { data: { key: 'stream:flaky' } } })).body.value ===
          'worked on retry',
        10_000,
      );
      expect(blobs.count('/flaky')).toBe(2);

      const before = (await deadLetters()).length;
      await xadd({
        key: 'SET',
        value: { data: { key: 'stream:down', url: blobs.url('/unavailable') } },
      });
      await waitFor(
        'it to be given up',
        async () => (await deadLetters()).length === before + 1,
        15_000,
      );
      const last = (await deadLetters()).at(-1)!;
      expect(last).toMatchObject({ code: 'BLOB_FETCH_FAILED', deliveries: '3' });
      expect(last.reason).toMatch(/answered 503/);
      expect(blobs.count('/unavailable')).toBe(3);
      await sleep(700);
      expect(blobs.count('/unavailable')).toBe(3);
      expect(await pendingCount()).toBe(0);
    });
  });
});
