import { AppProcess, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { BINARY_BLOB, BlobServer } from '../fixtures/cache/blob-server';

jest.setTimeout(120_000);

const TOKEN = 'e2e-sync-token-0123456789';
const PREFIX = 'e2e:';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Cache-sync on two built gateway processes sharing the Redis under test, with a
 * local HTTP server playing blob storage and an auth process for admin
 * sessions: HTTP events, the invalidation of each gateway's in-process cache,
 * blob fetching rules, and the event stream, down to a consumer killed before
 * it acknowledged.
 */
describe('cache-sync across two gateway processes', () => {
  let redis: TestRedis;
  let raw: ReturnType<TestRedis['client']>;
  /** The contract's stream names; on Redis Cluster they carry the hash tag {cache-sync} (README). */
  const streamKey = (name: 'events' | 'dead') =>
    redis.mode === 'cluster' ? `${PREFIX}{cache-sync}:${name}` : `${PREFIX}cache-sync:${name}`;
  let blobs: BlobServer;
  let one: AppProcess;
  let two: AppProcess;
  let auth: AppProcess;

  const env = () => ({
    ...redis.env,
    KEY_PREFIX: PREFIX,
    CACHE_SYNC_TOKEN: TOKEN,
    CACHE_SYNC_ALLOWED_HOSTS: blobs.host,
    RATE_LIMIT_IP: '100000/60',
    RATE_LIMIT_USER: '100000/60',
    ADMIN_LOGIN: 'root',
    ADMIN_PASSWORD: 'root-password-1',
  });

  async function send(
    app: AppProcess,
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  ): Promise<Answer> {
    const res = await fetch(app.url('/api/cache/events'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  const set = (app: AppProcess, data: Record<string, unknown>, ttl?: unknown) =>
    send(app, { key: 'SET', value: ttl === undefined ? { data } : { data, ttl } });
  const get = (app: AppProcess, key: string) => send(app, { key: 'GET', value: { data: { key } } });
  const l1Hits = async (app: AppProcess): Promise<number> => {
    const text = await (await fetch(app.url('/metrics'))).text();
    return Number(/^lattice_cache_hits_total\{tier="l1"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    raw = redis.client();
    blobs = await BlobServer.start();
    [one, two, auth] = await Promise.all([
      AppProcess.start('gateway', env()),
      AppProcess.start('gateway', env()),
      AppProcess.start('auth', env()),
    ]);
    await Promise.all(
      [one, two, auth].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([one, two, auth].map((p) => p?.stop()));
    await blobs?.close();
    await redis?.dispose();
  });

  describe('the in-process cache of every gateway', () => {
    // A read on the other gateway that starts before the change's announcement arrives
    // may still see the old value (docs/cache.md); once it arrives, the change is seen.
    const seenOn = (
      app: AppProcess,
      key: string,
      expected: (body: Record<string, unknown>) => boolean,
    ) =>
      waitFor(
        `${key} to change on port ${app.port}`,
        async () => expected((await get(app, key)).body),
        2000,
        5,
      );

    it('sees an event applied on the other gateway as soon as its announcement arrives', async () => {
      expect(await set(one, { key: 'routes:table', value: { version: 1 } }, 60)).toEqual({
        status: 200,
        body: { key: 'routes:table', stored: true },
      });
      expect((await get(two, 'routes:table')).body).toEqual({
        key: 'routes:table',
        hit: true,
        value: { version: 1 },
      });
      const hits = await l1Hits(two);
      expect((await get(two, 'routes:table')).body.value).toEqual({ version: 1 });
      expect(await l1Hits(two)).toBe(hits + 1); // answered from two's L1

      await set(one, { key: 'routes:table', value: { version: 2 } });
      await seenOn(
        two,
        'routes:table',
        (body) => (body.value as { version: number })?.version === 2,
      );

      await get(two, 'routes:table'); // in two's L1 again
      expect(
        await send(one, {
          key: 'DELETE',
          value: { data: { keys: ['routes:table', 'routes:none'] } },
        }),
      ).toEqual({
        status: 200,
        body: { deleted: 1 },
      });
      await seenOn(two, 'routes:table', (body) => body.hit === false);
      expect((await get(two, 'routes:table')).body).toEqual({
        key: 'routes:table',
        hit: false,
        value: null,
      });

      await set(two, { key: 'routes:a', value: 'a' });
      await set(two, { key: 'routes:b', value: 'b' });
      await get(one, 'routes:a');
      await get(one, 'routes:a'); // in one's L1
      expect(
        await send(two, { key: 'DELETE_PATTERN', value: { data: { pattern: 'routes:*' } } }),
      ).toEqual({
        status: 200,
        body: { deleted: 2 },
      });
      await seenOn(one, 'routes:a', (body) => body.hit === false);
      expect((await get(one, 'routes:b')).body.hit).toBe(false);
    });

    it('keeps event keys in the cache namespace, with the TTL asked for', async () => {
      await raw.set(`${PREFIX}session:{1}:x`, 'not cache');
      await set(one, { key: 'session:1:x', value: 'cache entry' }, '30');
      expect(await raw.get(`${PREFIX}session:{1}:x`)).toBe('not cache');
      expect(await raw.exists(`${PREFIX}cache:session:1:x`)).toBe(1);
      const ttl = await raw.pttl(`${PREFIX}cache:session:1:x`);
      expect(ttl).toBeGreaterThan(29_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
      expect(
        (await send(one, { key: 'DELETE_PATTERN', value: { data: { pattern: '*' } } })).status,
      ).toBe(200);
      expect(await raw.get(`${PREFIX}session:{1}:x`)).toBe('not cache');
      expect(await raw.exists(`${PREFIX}cache:session:1:x`)).toBe(0);
    });
  });

  describe('who may send events', () => {
    const login = async (body: Record<string, string>) => {
      const res = await fetch(auth.url('/auth/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return ((await res.json()) as { token: string }).token;
    };

    it('takes the CACHE_SYNC_TOKEN or an admin session, and nothing else', async () => {
      const probe = { key: 'GET', value: { data: { key: 'who' } } };
      expect(await send(one, probe, {})).toMatchObject({
        status: 401,
        body: { code: 'UNAUTHENTICATED' },
      });
      expect(
        await send(one, probe, { authorization: 'Bearer wrong-token-wrong-token' }),
      ).toMatchObject({ status: 401 });
      expect((await send(one, probe)).status).toBe(200);

      await waitFor(
        'the admin account',
        async () =>
          (
            await fetch(auth.url('/auth/login'), {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ login: 'root', password: 'root-password-1' }),
            })
          ).status === 200,
      );
      const admin = await login({ login: 'root', password: 'root-password-1' });
      expect((await send(two, probe, { authorization: `Bearer ${admin}` })).status).toBe(200);

      const register = await fetch(auth.url('/auth/register'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'plain', name: 'Plain', password: 'password-123' }),
      });
      expect(register.status).toBe(201);
      const user = await login({ login: 'plain', password: 'password-123' });
      expect(await send(two, probe, { authorization: `Bearer ${user}` })).toMatchObject({
        status: 403,
        body: { code: 'FORBIDDEN' },
      });
    });
  });

  describe('invalid events', () => {
    it.each([
      [
        'an unknown type',
        { key: 'FLUSHALL', value: { data: {} } },
        /key: must be one of SET, GET, DELETE, DELETE_PATTERN/,
      ],
      ['missing data', { key: 'SET', value: { ttl: 5 } }, /value\.data: is missing/],
      [
        'a non-numeric ttl',
        { key: 'SET', value: { data: { key: 'k', value: 1 }, ttl: 'ten' } },
        /value\.ttl: must be a number of seconds/,
      ],
      [
        'a pattern outside the grammar',
        { key: 'DELETE_PATTERN', value: { data: { pattern: '*\\' } } },
        /value\.data\.pattern/,
      ],
      [
        'a pattern with a hash tag',
        { key: 'DELETE_PATTERN', value: { data: { pattern: '{session}*' } } },
        /value\.data\.pattern/,
      ],
      [
        'a bad key',
        { key: 'GET', value: { data: { key: 'has spaces*' } } },
        /value\.data\.key: must be 1 to 256 characters/,
      ],
      ['no object at all', [1, 2, 3], /must be a JSON object/],
    ])('answers 400 INVALID_EVENT for %s', async (_what, body, reason) => {
      const answer = await send(one, body);
      expect(answer).toMatchObject({
        status: 400,
        body: { statusCode: 400, code: 'INVALID_EVENT' },
      });
      expect(answer.body.message).toMatch(reason);
      expect(answer.body.requestId).toEqual(expect.any(String));
    });

    it('answers malformed JSON with 400, never 500', async () => {
      expect(await send(one, '{"key": "SET",')).toMatchObject({
        status: 400,
        body: { code: 'MALFORMED_JSON' },
      });
    });
  });

  describe('blob URLs', () => {
    it('stores a text body as text, a JSON body as its text, and bytes as bytes', async () => {
      expect(await set(one, { key: 'blob:text', url: blobs.url('/text') })).toEqual({
        status: 200,
        body: { key: 'blob:text', stored: true },
      });
      expect((await get(two, 'blob:text')).body).toEqual({
        key: 'blob:text',
        hit: true,
        value: 'hello blob ✓',
      });
      await set(one, { key: 'blob:json', url: blobs.url('/json') });
      expect((await get(two, 'blob:json')).body.value).toBe('{"routes": [{"prefix": "/orders"}]}');
      await set(one, { key: 'blob:latin1', url: blobs.url('/latin1') });
      expect((await get(two, 'blob:latin1')).body.value).toBe('café');
      await set(one, { key: 'blob:binary', url: blobs.url('/binary') });
      const binary = (await get(two, 'blob:binary')).body;
      expect(binary).toMatchObject({ hit: true, encoding: 'base64' });
      expect(Buffer.from(binary.value as string, 'base64').equals(BINARY_BLOB)).toBe(true);
      expect(
        (await set(one, { key: 'blob:redirected', url: blobs.url('/redirect-in') })).status,
      ).toBe(200);
      expect((await get(two, 'blob:redirected')).body.value).toBe('hello blob ✓');
    });

    it.each([
      ['/slow', 504, 'BLOB_FETCH_TIMEOUT', /did not arrive within 5 s/],
      ['/huge', 502, 'BLOB_TOO_LARGE', /larger than 5242880 bytes/],
      ['/huge-declared', 502, 'BLOB_TOO_LARGE', /larger than 5242880 bytes/],
      ['/missing', 502, 'BLOB_FETCH_FAILED', /answered 404/],
      [
        '/redirect-out',
        400,
        'BLOB_URL_REFUSED',
        /redirected to http:\/\/localhost:\d+: .* not in CACHE_SYNC_ALLOWED_HOSTS/,
      ],
      [
        '/redirect-port',
        400,
        'BLOB_URL_REFUSED',
        /127\.0\.0\.1:1 is not in CACHE_SYNC_ALLOWED_HOSTS/,
      ],
      ['/redirect-file', 400, 'BLOB_URL_REFUSED', /not file:/],
      ['/redirect-loop', 502, 'BLOB_FETCH_FAILED', /redirected more than 5 times/],
    ])('refuses %s (%i %s) and stores nothing', async (path, status, code, reason) => {
      await set(one, { key: 'blob:kept', value: 'the previous value' });
      const startedAt = Date.now();
      const answer = await set(one, { key: 'blob:kept', url: blobs.url(path) });
      expect(answer).toMatchObject({ status, body: { code } });
      expect(answer.body.message).toMatch(reason);
      expect(answer.body.message).toMatch(/./);
      expect(Date.now() - startedAt).toBeLessThan(8000);
      expect((await get(two, 'blob:kept')).body.value).toBe('the previous value');
    });

    it.each([
      [
        'another host',
        () => `http://localhost:${blobs.port}/text`,
        /http:\/\/localhost:\d+ is not in CACHE_SYNC_ALLOWED_HOSTS/,
      ],
      [
        'another port',
        () => `http://127.0.0.1:${blobs.port + 1}/text`,
        /is not in CACHE_SYNC_ALLOWED_HOSTS/,
      ],
      [
        'a file: URL',
        () => 'file:///etc/passwd',
        /only http and https URLs are fetched, not file:/,
      ],
      ['an ftp: URL', () => `ftp://${blobs.host}/text`, /not ftp:/],
      ['credentials', () => `http://user:secret@${blobs.host}/text`, /credentials/],
      ['not a URL', () => 'blob/text', /not an absolute URL/],
    ])('refuses %s with 400 before fetching anything', async (_what, url, reason) => {
      const before = blobs.count('/text');
      const answer = await set(one, { key: 'blob:refused', url: url() });
      expect(answer).toMatchObject({ status: 400, body: { code: 'BLOB_URL_REFUSED' } });
      expect(answer.body.message).toMatch(reason);
      expect(blobs.count('/text')).toBe(before);
      expect(await raw.exists(`${PREFIX}cache:blob:refused`)).toBe(0);
    });
  });

  describe('the stream cache-sync:events', () => {
    const xadd = (event: unknown) =>
      raw.xadd(streamKey('events'), '*', 'event', JSON.stringify(event));
    const pending = async () =>
      (await raw.xpending(streamKey('events'), 'cache-sync', '-', '+', 100)) as [
        string,
        string,
        number,
        number,
      ][];

    it('applies each event once, on one gateway, and acknowledges it after', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `stream:${i}`);
      for (const key of keys)
        await xadd({ key: 'SET', value: { data: { key, value: key }, ttl: 60 } });
      await waitFor('all applied', async () =>
        (await Promise.all(keys.map((k) => get(two, k)))).every((a) => a.body.hit),
      );
      await waitFor('all acknowledged', async () => (await pending()).length === 0);
      const consumers = (await raw.xinfo(
        'CONSUMERS',
        streamKey('events'),
        'cache-sync',
      )) as unknown[][];
      expect(consumers.length).toBe(2);

      await xadd({
        key: 'SET',
        value: { data: { key: 'stream:bad', url: `http://localhost:${blobs.port}/text` } },
      });
      await waitFor('a dead letter', async () => (await raw.xlen(streamKey('dead'))) === 1);
      const [[, fields]] = await raw.xrange(streamKey('dead'), '-', '+');
      expect(fields).toEqual(expect.arrayContaining(['code', 'BLOB_URL_REFUSED', 'reason']));
      expect(await pending()).toEqual([]);
    });

    it('applies the event of a gateway killed before acknowledging it, on the other', async () => {
      const fetchedBefore = blobs.count('/slowish');
      await xadd({
        key: 'SET',
        value: { data: { key: 'stream:orphan', url: blobs.url('/slowish') } },
      });
      // The blob takes 2.5 s to arrive: kill whichever gateway is fetching it.
      const [[, owner]] = await waitFor('the event to be delivered', async () => {
        const entries = await pending();
        return entries.length === 1 ? entries : undefined;
      });
      const victim = [one, two].find((app) => owner.split(':')[1] === String(app.pid))!;
      const survivor = victim === one ? two : one;
      await waitFor('the blob request', () => blobs.count('/slowish') > fetchedBefore);
      await victim.kill();
      expect((await get(survivor, 'stream:orphan')).body.hit).toBe(false);

      // Taken over once idle for 15 s, applied, acknowledged.
      await waitFor(
        'the survivor to apply it',
        async () => (await get(survivor, 'stream:orphan')).body.value === 'worth the wait',
        40_000,
        250,
      );
      await waitFor('nothing pending', async () => (await pending()).length === 0);
      expect(blobs.count('/slowish')).toBe(fetchedBefore + 2);
      const claimed = await (await fetch(survivor.url('/metrics'))).text();
      expect(claimed).toMatch(/^lattice_cache_sync_claimed_total 1$/m);
    });
  });
});
