import { gunzipSync } from 'node:zlib';
import { roomOf } from '@lattice/presence';
import { RedisService } from '@lattice/redis';
import { SessionService } from '@lattice/session';
import { RedisCluster, RedisServer, sleep, waitFor } from '@lattice/testing';
import { FakeGithub } from '../../../../test/fixtures/prize-draw/fake-github';
import { startTestApp, type TestApp } from '../../../../test/fixtures/test-app';
import { PrizeDrawModule } from './prize-draw.module';

const PREFIX = 'pd:';
const GITHUB_TIMEOUT_MS = 400;

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

async function call(
  app: TestApp,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(app.url(path), {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body, headers: res.headers };
}

/**
 * Prize draws (CONTRACT 4.3, the `prizedraw:` keys of 7) through the HTTP
 * API of two gateway apps built in process, against a real redis-server and
 * a three-master cluster (which refuses any script whose keys span slots),
 * with a local fake GitHub.
 */
describe.each(['standalone', 'cluster'] as const)('prize draws on Redis (%s)', (mode) => {
  let redis: RedisServer | RedisCluster;
  let raw: ReturnType<RedisServer['client']> | ReturnType<RedisCluster['client']>;
  let github: FakeGithub;
  let one: TestApp;
  let two: TestApp;
  let admin: string;
  let member: string;

  /** A draw key as other programs read it (with the draw's hash tag on a cluster). */
  const key = (id: string, name: string) =>
    mode === 'cluster' ? `${PREFIX}prizedraw:{${id}}:${name}` : `${PREFIX}prizedraw:${id}:${name}`;

  const start = (id: string, prizes: string[], extra: Json = {}, app = one) =>
    call(app, 'POST', '/api/draws', { token: admin, body: { id, prizes, ...extra } });
  const enter = (id: string, githubId: string, app = one) =>
    call(app, 'POST', `/api/draws/${id}/entries`, { body: { githubId } });
  const view = async (id: string, app = one) =>
    (await call(app, 'GET', `/api/draws/${id}`)).body as Json;

  beforeAll(async () => {
    redis = mode === 'cluster' ? await RedisCluster.start() : await RedisServer.start();
    raw = redis.client();
    github = await FakeGithub.start(
      [
        'octocat',
        'Ada',
        'grace',
        'linus',
        'no-name',
        'slowpoke',
        ...Array.from({ length: 16 }, (_, i) => `u${i}`),
      ].map((login) => ({ login, name: login === 'no-name' ? null : undefined })),
    );
    const env = {
      ...redis.env,
      KEY_PREFIX: PREFIX,
      GITHUB_API_URL: github.url,
      RATE_LIMIT_IP: '100000/60',
      RATE_LIMIT_USER: '100000/60',
    };
    const imports = [PrizeDrawModule.forRoot({ githubTimeoutMs: GITHUB_TIMEOUT_MS })];
    [one, two] = await Promise.all([
      startTestApp({ env, imports }),
      startTestApp({ env, imports }),
    ]);
    for (const app of [one, two])
      expect(await app.app.get(RedisService).whenReady(10_000)).toBe(true);
    const sessions = one.app.get(SessionService);
    const meta = { ip: '127.0.0.1', userAgent: 'jest' };
    admin = (await sessions.create({ id: '1', login: 'root', roles: ['admin'] }, meta)).token;
    member = (await sessions.create({ id: '2', login: 'bob', roles: [] }, meta)).token;
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([one?.close(), two?.close()]);
    await github?.close();
    await redis?.dispose();
  });

  afterEach(() => github.healthy());

  it('runs a draw from start to winners, in the contract layout', async () => {
    const started = await start('spring', ['Keyboard', 'Mug', 'Stickers']);
    expect(started).toMatchObject({ status: 201 });
    expect(started.body).toEqual({
      id: 'spring',
      state: 'DRAW_OPEN_NO_ENTRANTS',
      prizes: ['Keyboard', 'Mug', 'Stickers'],
      entrants: 0,
      closesAt: null,
    });
    expect(await raw.get(key('spring', 'is_open'))).toBe('true');
    expect(await raw.ttl(key('spring', 'is_open'))).toBe(-1);
    expect((await raw.smembers(key('spring', 'prizes'))).sort()).toEqual([
      'Keyboard',
      'Mug',
      'Stickers',
    ]);

    const entered = await enter('spring', 'OctoCat');
    expect(entered.status).toBe(201);
    expect(entered.body).toEqual({
      githubId: 'octocat',
      login: 'octocat',
      name: 'octocat Name',
      image: github.avatarOf('octocat'),
      url: 'https://github.com/octocat',
    });
    expect((await enter('spring', 'ada', two)).status).toBe(201);
    expect(await view('spring', two)).toMatchObject({
      state: 'DRAW_OPEN_WITH_ENTRANTS',
      entrants: 2,
    });
    expect((await raw.smembers(key('spring', 'entrants'))).sort()).toEqual(['ada', 'octocat']);
    // The profile cache: the contract key, GitHub's JSON, one hour.
    const cached = JSON.parse((await raw.get(`${PREFIX}prizedraw:profiles:octocat`))!) as Json;
    expect(cached).toMatchObject({ login: 'octocat', avatar_url: github.avatarOf('octocat') });
    const ttl = await raw.ttl(`${PREFIX}prizedraw:profiles:octocat`);
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);

    // A second entry, in any case, on any instance: refused without asking GitHub again.
    const lookups = github.lookups('octocat');
    const again = await enter('spring', 'OCTOCAT', two);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ statusCode: 409, code: 'ALREADY_ENTERED' });
    expect(github.lookups('octocat')).toBe(lookups);

    const ghost = await enter('spring', 'ghost-user');
    expect(ghost.status).toBe(404);
    expect(ghost.body).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/GitHub/),
    });

    expect(await call(one, 'GET', '/api/draws/spring/winners')).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND' },
    });
    expect((await call(one, 'POST', '/api/draws/spring/close', { token: admin })).status).toBe(204);
    expect(await raw.exists(key('spring', 'is_open'))).toBe(0);
    const closed = await view('spring');
    expect(closed).toMatchObject({ state: 'DRAW_CLOSED_WITH_ENTRANTS', entrants: 2 });
    expect(Date.parse(closed.closesAt as string)).toBeLessThanOrEqual(Date.now());
    // Closing again changes nothing.
    expect((await call(two, 'POST', '/api/draws/spring/close', { token: admin })).status).toBe(204);
    const late = await enter('spring', 'grace');
    expect(late).toMatchObject({ status: 403, body: { code: 'DRAW_CLOSED' } });
    expect(github.lookups('grace')).toBe(0);

    const picked = await call(one, 'POST', '/api/draws/spring/winners', { token: admin });
    expect(picked.status).toBe(200);
    const winners = picked.body as { name: string; prize: string; image: string }[];
    // Two entrants for three prizes: the first two prizes, in the admin's order; nothing lost.
    expect(winners.map((w) => w.prize)).toEqual(['Keyboard', 'Mug']);
    expect(winners.map((w) => w.name).sort()).toEqual(['Ada Name', 'octocat Name']);
    for (const winner of winners) expect(winner.image).toMatch(/\/avatars\/(ada|octocat)\.svg$/);
    expect(await raw.smembers(key('spring', 'prizes'))).toEqual(['Stickers']);
    expect(await raw.scard(key('spring', 'entrants'))).toBe(0);
    const hash = await raw.hgetall(key('spring', 'winners'));
    expect(Object.keys(hash).sort()).toEqual(['Keyboard', 'Mug']);
    expect(Object.values(hash).sort()).toEqual(['ada', 'octocat']);
    expect(JSON.parse((await raw.get(key('spring', 'winners_json')))!)).toEqual(
      expect.arrayContaining(winners.map((w) => expect.objectContaining(w))),
    );

    expect(await view('spring')).toEqual({
      id: 'spring',
      state: 'DRAW_WON',
      prizes: ['Stickers'],
      entrants: 2,
      closesAt: closed.closesAt,
    });
    // Again, on the other instance, and read by anyone: the same winners.
    expect((await call(two, 'POST', '/api/draws/spring/winners', { token: admin })).body).toEqual(
      winners,
    );
    expect((await call(two, 'GET', '/api/draws/spring/winners')).body).toEqual(winners);
  });

  it('answers NO_DRAW for a draw never started, and 404 to everything that needs one', async () => {
    expect(await view('never')).toEqual({
      id: 'never',
      state: 'NO_DRAW',
      prizes: [],
      entrants: 0,
      closesAt: null,
    });
    expect((await enter('never', 'octocat')).body).toMatchObject({ code: 'NOT_FOUND' });
    for (const path of ['close', 'winners']) {
      expect(
        (await call(one, 'POST', `/api/draws/never/${path}`, { token: admin })).body,
      ).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    }
    expect((await call(one, 'GET', '/api/draws/never/winners')).status).toBe(404);
    expect(await redis.keys(`${PREFIX}prizedraw:*never*`)).toEqual([]);
  });

  it('lets only admins run draws, and anyone read and enter them', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/draws', { id: 'guarded', prizes: ['x'] }],
      ['POST', '/api/draws/guarded/close', undefined],
      ['POST', '/api/draws/guarded/winners', undefined],
    ] as const) {
      expect(await call(one, method, path, { body })).toMatchObject({
        status: 401,
        body: { code: 'UNAUTHENTICATED' },
      });
      expect(await call(one, method, path, { body, token: member })).toMatchObject({
        status: 403,
        body: { code: 'FORBIDDEN' },
      });
    }
    expect(await redis.keys(`${PREFIX}prizedraw:*guarded*`)).toEqual([]);
  });

  it('refuses bad input with 400 and the contract body, before any request to GitHub', async () => {
    await start('strict', ['Mug']);
    const before = github.requests.length;
    for (const githubId of ['-bad', 'bad-', 'a--b', 'x'.repeat(40), 'a_b', '../users', '', 42]) {
      const answer = await enter('strict', githubId as string);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        requestId: expect.any(String),
        details: [expect.objectContaining({ path: 'githubId' })],
      });
    }
    expect(github.requests.length).toBe(before);
    for (const body of [
      { id: 'Upper', prizes: ['x'] },
      { id: 'profiles', prizes: ['x'] },
      { id: 'a', prizes: [] },
      { id: 'a', prizes: ['x', 'x'] },
      { id: 'a', prizes: ['x'], durationSeconds: 0 },
      { id: 'a', prizes: ['x'], durationSeconds: '60' },
      { id: 'a', prizes: ['x'], extra: 1 },
    ]) {
      expect((await call(one, 'POST', '/api/draws', { token: admin, body })).body).toMatchObject({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    expect((await call(one, 'GET', '/api/draws/Not-Valid')).status).toBe(400);
    expect((await call(one, 'GET', `/api/draws/${'x'.repeat(65)}`)).status).toBe(400);
    const malformed = await call(one, 'POST', '/api/draws/strict/entries', {
      body: '{"githubId":',
    });
    expect(malformed.body).toMatchObject({ statusCode: 400, code: 'MALFORMED_JSON' });
  });

  it('keeps unwon prizes with more prizes than entrants, and non-winners with more entrants', async () => {
    await start('few', ['Gold', 'Silver', 'Bronze']);
    const none = await call(one, 'POST', '/api/draws/few/winners', { token: admin });
    expect(none).toMatchObject({ status: 200, body: [] });
    expect(await view('few')).toMatchObject({
      state: 'DRAW_WON',
      prizes: ['Gold', 'Silver', 'Bronze'],
      entrants: 0,
    });

    await start('many', ['Only']);
    for (const login of ['linus', 'grace', 'ada'])
      expect((await enter('many', login)).status).toBe(201);
    const [winner] = (await call(two, 'POST', '/api/draws/many/winners', { token: admin }))
      .body as { prize: string }[];
    expect(winner.prize).toBe('Only');
    expect(await raw.scard(key('many', 'entrants'))).toBe(2);
    expect(await view('many')).toMatchObject({ state: 'DRAW_WON', prizes: [], entrants: 3 });
  });

  it('answers winners from what entrants entered with, not the one-hour profile cache', async () => {
    await start('selfcontained', ['Hat']);
    await enter('selfcontained', 'no-name');
    await raw.del(`${PREFIX}prizedraw:profiles:no-name`);
    const winners = await call(one, 'POST', '/api/draws/selfcontained/winners', { token: admin });
    // No display name on GitHub: the login stands in.
    expect(winners.body).toEqual([
      { name: 'no-name', prize: 'Hat', image: github.avatarOf('no-name') },
    ]);
  });

  it('replaces an earlier draw with the same id, old entrants and winners included', async () => {
    await start('again', ['A']);
    await enter('again', 'linus');
    await call(one, 'POST', '/api/draws/again/winners', { token: admin });
    const restarted = await start('again', ['B', 'C'], { durationSeconds: 600 }, two);
    expect(restarted.body).toMatchObject({
      state: 'DRAW_OPEN_NO_ENTRANTS',
      prizes: ['B', 'C'],
      entrants: 0,
    });
    const closesAt = Date.parse((restarted.body as Json).closesAt as string);
    expect(closesAt - Date.now()).toBeGreaterThan(595_000);
    expect(closesAt - Date.now()).toBeLessThanOrEqual(600_000);
    expect(await raw.ttl(key('again', 'is_open'))).toBeGreaterThan(595);
    expect((await call(one, 'GET', '/api/draws/again/winners')).status).toBe(404);
    for (const name of ['winners', 'winners_json', 'entrants', 'entrant_profiles']) {
      expect(await raw.exists(key('again', name))).toBe(0);
    }
    expect((await enter('again', 'linus')).status).toBe(201);
  });

  it('closes a timed draw when its duration runs out', async () => {
    const started = await start('timed', ['Watch'], { durationSeconds: 1 });
    expect(started.body).toMatchObject({ state: 'DRAW_OPEN_NO_ENTRANTS' });
    const closesAt = (started.body as Json).closesAt as string;
    expect(Date.parse(closesAt) - Date.now()).toBeLessThanOrEqual(1000);
    expect(await raw.pttl(key('timed', 'is_open'))).toBeLessThanOrEqual(1000);
    expect((await enter('timed', 'ada')).status).toBe(201);
    await waitFor(
      'the draw to close',
      async () => (await view('timed')).state === 'DRAW_CLOSED_WITH_ENTRANTS',
      3000,
    );
    expect(await view('timed', two)).toEqual({
      id: 'timed',
      state: 'DRAW_CLOSED_WITH_ENTRANTS',
      prizes: ['Watch'],
      entrants: 1,
      closesAt,
    });
    expect((await enter('timed', 'grace')).body).toMatchObject({ code: 'DRAW_CLOSED' });
    expect(
      ((await call(two, 'POST', '/api/draws/timed/winners', { token: admin })).body as Json[])[0],
    ).toMatchObject({ prize: 'Watch', name: 'Ada Name' });
  });

  it('picks winners once when many calls race on two instances', async () => {
    const logins = Array.from({ length: 16 }, (_, i) => `u${i}`);
    const prizes = ['P1', 'P2', 'P3', 'P4', 'P5'];
    await start('race', prizes);
    await Promise.all(logins.map((login, i) => enter('race', login, i % 2 ? one : two)));
    expect(await view('race')).toMatchObject({ entrants: 16 });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(i % 2 ? one : two, 'POST', '/api/draws/race/winners', { token: admin }),
      ),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    const first = answers[0].body as { prize: string }[];
    for (const answer of answers) expect(answer.body).toEqual(first);
    expect(first.map((w) => w.prize)).toEqual(prizes);
    const hash = await raw.hgetall(key('race', 'winners'));
    const winnerIds = Object.values(hash);
    expect(new Set(winnerIds).size).toBe(5);
    const left = await raw.smembers(key('race', 'entrants'));
    expect(left).toHaveLength(11);
    expect([...left, ...winnerIds].sort()).toEqual([...logins].sort());
  });

  it('never lets an entry in after the winners were picked, even in a race', async () => {
    const logins = Array.from({ length: 16 }, (_, i) => `u${i}`);
    await start('photo-finish', ['P1', 'P2']);
    const entries = logins.map((login, i) => enter('photo-finish', login, i % 2 ? one : two));
    await sleep(5);
    const picked = call(one, 'POST', '/api/draws/photo-finish/winners', { token: admin });
    const results = await Promise.all(entries);
    await picked;
    const accepted = logins.filter((_, i) => results[i].status === 201);
    for (const result of results) expect([201, 403]).toContain(result.status);
    const winners = Object.values(await raw.hgetall(key('photo-finish', 'winners')));
    const left = await raw.smembers(key('photo-finish', 'entrants'));
    // Everyone who was told "entered" is in the draw (a winner or not); nobody else is.
    expect([...winners, ...left].sort()).toEqual(accepted.sort());
  });

  describe('when GitHub misbehaves', () => {
    beforeAll(async () => {
      await start('github', ['Mug']);
    });

    it.each([
      ['fails', () => github.failWith(500), /GitHub answered 500/],
      [
        'rate-limits',
        () => github.failWith(403, { 'x-ratelimit-remaining': '0' }),
        /rate-limiting/,
      ],
      ['answers nonsense', () => github.answerNonsense(), /not a user/],
    ])('answers 503 UNAVAILABLE when it %s', async (_what, misbehave, message) => {
      misbehave();
      const answer = await enter('github', 'slowpoke');
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(message),
      });
      expect(await raw.sismember(key('github', 'entrants'), 'slowpoke')).toBe(0);
    });

    it('answers 503 at the deadline when it is too slow, and nothing is entered', async () => {
      github.slowDown(GITHUB_TIMEOUT_MS * 5);
      const started = Date.now();
      const answer = await enter('github', 'slowpoke');
      expect(Date.now() - started).toBeLessThan(GITHUB_TIMEOUT_MS * 3);
      expect(answer).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE' } });
      expect(answer.body).toMatchObject({
        message: expect.stringMatching(/did not answer within/),
      });
      expect(answer.headers.get('cache-control')).toBe('no-store');
      github.healthy();
      expect((await enter('github', 'slowpoke')).status).toBe(201);
    });
  });

  if (mode === 'standalone') {
    it('publishes the draw events on the /draws namespace of the Socket.IO bus', async () => {
      const channel = `${PREFIX}socket.io#/draws#${roomOf('draw:live')}#`;
      const listener = redis.client();
      const heard: [string, Json][] = [];
      listener.on('message', (_from: string, text: string) => {
        const [, packet] = JSON.parse(text) as [string, { nsp: string; data: [string, Json] }];
        expect(packet.nsp).toBe('/draws');
        heard.push(packet.data);
      });
      await listener.subscribe(channel);
      try {
        await start('live', ['Mug']);
        await enter('live', 'ada');
        await call(one, 'POST', '/api/draws/live/close', { token: admin });
        await call(two, 'POST', '/api/draws/live/winners', { token: admin });
        await call(one, 'POST', '/api/draws/live/winners', { token: admin });
        await waitFor('the winners event', () => heard.some(([e]) => e === 'draw:winners'));
        await sleep(100);
        expect(heard.map(([event]) => event)).toEqual([
          'draw:started',
          'draw:entrants',
          'draw:closed',
          'draw:winners',
        ]);
        expect(heard[0][1]).toMatchObject({ id: 'live', state: 'DRAW_OPEN_NO_ENTRANTS' });
        expect(heard[1][1]).toEqual({ id: 'live', entrants: 1 });
        expect(heard[2][1]).toMatchObject({ id: 'live', state: 'DRAW_CLOSED_WITH_ENTRANTS' });
        expect(heard[3][1]).toEqual({
          id: 'live',
          winners: [{ name: 'Ada Name', prize: 'Mug', image: github.avatarOf('ada') }],
        });
      } finally {
        listener.disconnect();
      }
    });

    it('serves the pages and their assets, compressed and revalidated', async () => {
      for (const [path, title] of [
        ['/draw', 'Prize draw'],
        ['/draw/?id=spring', 'Prize draw'],
        ['/draw/admin', 'Prize draw admin'],
      ]) {
        const res = await fetch(one.url(path));
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
        expect(await res.text()).toContain(`<title>${title}</title>`);
      }
      const bulma = await fetch(one.url('/draw/assets/bulma.min.css'), {
        headers: { 'accept-encoding': 'identity' },
      });
      expect(bulma.headers.get('content-type')).toMatch(/^text\/css/);
      expect(await bulma.text()).toMatch(/bulma/i);
      const etag = bulma.headers.get('etag')!;
      const revalidated = await fetch(one.url('/draw/assets/bulma.min.css'), {
        headers: { 'if-none-match': etag },
      });
      expect(revalidated.status).toBe(304);
      // Node's fetch decompresses by itself; ask over plain HTTP to see the encoding.
      const gz = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
        void import('node:http').then(({ get }) =>
          get(
            one.url('/draw/assets/socket.io.min.js'),
            { headers: { 'accept-encoding': 'gzip' } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
              );
            },
          ).on('error', reject),
        );
      });
      expect(gz.encoding).toBe('gzip');
      const socketIo = gunzipSync(gz.body).toString();
      expect(socketIo).toContain('Socket.IO');
      expect(socketIo).not.toContain('sourceMappingURL');
      for (const asset of ['draw.css', 'draw-common.js', 'draw.js', 'admin.js']) {
        expect((await fetch(one.url(`/draw/assets/${asset}`))).status).toBe(200);
      }
      expect(await call(one, 'GET', '/draw/assets/nope.js')).toMatchObject({
        status: 404,
        body: { code: 'NOT_FOUND' },
      });
      expect((await call(one, 'GET', '/draw/assets/..%2f..%2fmain.js')).status).toBe(400);
    });

    it('answers 503 UNAVAILABLE while Redis is down, and recovers by itself', async () => {
      const server = redis as RedisServer;
      await server.stop();
      try {
        for (const answer of [
          await call(one, 'GET', '/api/draws/spring'),
          await enter('spring', 'linus'),
          await call(one, 'GET', '/api/draws/spring/winners'),
        ]) {
          expect(answer.status).toBe(503);
          expect(answer.body).toMatchObject({ code: 'UNAVAILABLE' });
        }
      } finally {
        await server.restart();
      }
      await waitFor(
        'the gateway to reconnect',
        async () => (await call(one, 'GET', '/api/draws/spring')).status === 200,
      );
    });
  }
});
