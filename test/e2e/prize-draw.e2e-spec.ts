import { io, type Socket } from 'socket.io-client';
import {
  AppProcess,
  callJson,
  sleep,
  startTestRedis,
  waitFor,
  type TestRedis,
} from '@lattice/testing';
import { FakeGithub } from '../fixtures/prize-draw/fake-github';

jest.setTimeout(120_000);

const PREFIX = 'e2e:';
const ADMIN = { login: 'root', password: 'root-password-1' };

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  body: unknown;
}
interface Winner {
  name: string;
  prize: string;
  image: string;
}

async function call(
  app: AppProcess,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<Answer> {
  const { status, body } = await callJson(app, method, path, options);
  return { status, body };
}

/** A draw page's live connection, as the pages open it: namespace /draws, WebSocket only. */
class DrawWatcher {
  readonly received: { event: string; payload: Json }[] = [];
  disconnectReason?: string;

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: Json) => this.received.push({ event, payload }));
    socket.on('disconnect', (reason) => (this.disconnectReason = reason));
  }

  static connect(baseUrl: string, auth: Json): Promise<DrawWatcher> {
    const socket = io(`${baseUrl}/draws`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth,
      timeout: 10_000,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new DrawWatcher(socket)));
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
  }

  events(event: string): Json[] {
    return this.received.filter((r) => r.event === event).map((r) => r.payload);
  }

  waitFor(event: string, matches: (payload: Json) => boolean = () => true): Promise<Json> {
    return waitFor(`${event} on the draw watcher`, () => this.events(event).find(matches), 10_000);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * Prize draws as users meet them: two built gateway processes, the auth app
 * (its admin account from ADMIN_LOGIN/ADMIN_PASSWORD) and the realtime app
 * over the Redis under test (one redis-server, or three cluster masters in
 * the e2e-cluster project), a local fake GitHub, and Socket.IO clients on the
 * realtime app's anonymous `/draws` namespace as the draw pages use it.
 */
describe('prize draws across two gateway processes', () => {
  let redis: TestRedis;
  let raw: ReturnType<TestRedis['client']>;
  let github: FakeGithub;
  let one: AppProcess;
  let two: AppProcess;
  let auth: AppProcess;
  let realtime: AppProcess;
  let admin: string;
  const watchers: DrawWatcher[] = [];
  const logins = Array.from({ length: 12 }, (_, i) => `dev-${i}`);

  /** A draw key as other programs read it; on a cluster the draw id is its hash tag (README). */
  const key = (id: string, name: string) =>
    redis.mode === 'cluster'
      ? `${PREFIX}prizedraw:{${id}}:${name}`
      : `${PREFIX}prizedraw:${id}:${name}`;
  const start = (app: AppProcess, body: Json) =>
    call(app, 'POST', '/api/draws', { token: admin, body });
  const enter = (app: AppProcess, id: string, githubId: string) =>
    call(app, 'POST', `/api/draws/${id}/entries`, { body: { githubId } });
  const view = async (app: AppProcess, id: string) =>
    (await call(app, 'GET', `/api/draws/${id}`)).body as Json;
  const watch = async (draw: string) => {
    const watcher = await DrawWatcher.connect(realtime.url(''), { draw });
    watchers.push(watcher);
    return watcher;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    raw = redis.client();
    github = await FakeGithub.start([
      { login: 'Octocat', name: 'The Octocat' },
      { login: 'late-comer' },
      ...logins.map((login) => ({ login })),
    ]);
    const env = {
      ...redis.env,
      KEY_PREFIX: PREFIX,
      GITHUB_API_URL: github.url,
      RATE_LIMIT_IP: '100000/60',
      RATE_LIMIT_USER: '100000/60',
      ADMIN_LOGIN: ADMIN.login,
      ADMIN_PASSWORD: ADMIN.password,
    };
    [auth, realtime] = await Promise.all([
      AppProcess.start('auth', env),
      AppProcess.start('realtime', env),
    ]);
    const upstreams = { AUTH_URL: auth.url(''), REALTIME_URL: realtime.url('') };
    [one, two] = await Promise.all([
      AppProcess.start('gateway', { ...env, ...upstreams }),
      AppProcess.start('gateway', { ...env, ...upstreams }),
    ]);
    await Promise.all(
      [one, two, auth, realtime].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
    const login = await waitFor('the admin account', async () => {
      const answer = await call(auth, 'POST', '/auth/login', { body: ADMIN });
      return answer.status === 200 ? (answer.body as { token: string }) : undefined;
    });
    admin = login.token;
  });

  afterEach(() => {
    for (const watcher of watchers.splice(0)) watcher.close();
    github.healthy();
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([one, two, auth, realtime].map((app) => app?.stop()));
    await github?.close();
    await redis?.dispose();
  });

  it('runs a whole draw through the API, and every watcher sees it live', async () => {
    const [early, late] = [await watch('launch'), await watch('launch')];
    const elsewhere = await watch('other-draw');

    const started = await start(one, { id: 'launch', prizes: ['Laptop', 'Mug'] });
    expect(started).toEqual({
      status: 201,
      body: {
        id: 'launch',
        state: 'DRAW_OPEN_NO_ENTRANTS',
        prizes: ['Laptop', 'Mug'],
        entrants: 0,
        closesAt: null,
      },
    });
    for (const watcher of [early, late]) {
      expect(await watcher.waitFor('draw:started')).toEqual(started.body);
    }

    const entered = await enter(two, 'launch', 'octocat');
    expect(entered).toEqual({
      status: 201,
      body: {
        githubId: 'octocat',
        login: 'Octocat',
        name: 'The Octocat',
        image: github.avatarOf('octocat'),
        url: 'https://github.com/Octocat',
      },
    });
    await early.waitFor('draw:entrants', (p) => p.entrants === 1);
    for (const [i, login] of logins.slice(0, 3).entries()) {
      expect((await enter(i % 2 ? one : two, 'launch', login)).status).toBe(201);
    }
    await late.waitFor('draw:entrants', (p) => p.entrants === 4);
    expect(await enter(one, 'launch', 'Octocat')).toMatchObject({
      status: 409,
      body: { statusCode: 409, code: 'ALREADY_ENTERED', requestId: expect.any(String) },
    });
    expect(await enter(one, 'launch', 'nobody-here')).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND' },
    });
    expect(await enter(one, 'launch', '-not-a-name')).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED' },
    });
    expect(github.lookups('-not-a-name')).toBe(0);
    expect(await view(two, 'launch')).toMatchObject({
      state: 'DRAW_OPEN_WITH_ENTRANTS',
      entrants: 4,
    });

    expect((await call(two, 'POST', '/api/draws/launch/close', { token: admin })).status).toBe(204);
    expect(await early.waitFor('draw:closed')).toMatchObject({
      id: 'launch',
      state: 'DRAW_CLOSED_WITH_ENTRANTS',
      entrants: 4,
    });
    expect(await enter(one, 'launch', logins[5])).toMatchObject({
      status: 403,
      body: { code: 'DRAW_CLOSED' },
    });

    const picked = await call(one, 'POST', '/api/draws/launch/winners', { token: admin });
    expect(picked.status).toBe(200);
    const winners = picked.body as Winner[];
    expect(winners.map((w) => w.prize)).toEqual(['Laptop', 'Mug']);
    for (const watcher of [early, late]) {
      expect(await watcher.waitFor('draw:winners')).toEqual({ id: 'launch', winners });
    }
    expect((await call(two, 'GET', '/api/draws/launch/winners')).body).toEqual(winners);
    expect(await view(one, 'launch')).toMatchObject({ state: 'DRAW_WON', prizes: [], entrants: 4 });

    // Contract 7 layout, as another program reads it.
    const hash = await raw.hgetall(key('launch', 'winners'));
    expect(Object.keys(hash).sort()).toEqual(['Laptop', 'Mug']);
    expect(await raw.scard(key('launch', 'entrants'))).toBe(2);
    expect(await raw.exists(key('launch', 'is_open'))).toBe(0);
    expect(await raw.get(`${PREFIX}prizedraw:profiles:octocat`)).toContain('"login":"Octocat"');

    await sleep(200);
    expect(elsewhere.received).toEqual([]);
    expect(early.events('draw:winners')).toHaveLength(1);
  });

  it('keeps the /draws namespace anonymous and read-only, and / still needs a session', async () => {
    for (const auth of [{}, { draw: 'Not Valid' }, { draw: 'x'.repeat(65) }]) {
      await expect(DrawWatcher.connect(realtime.url(''), auth)).rejects.toMatchObject({
        message: 'VALIDATION_FAILED',
      });
    }
    const chatty = await watch('quiet');
    chatty.socket.emit('presence:join', { channel: 'draw:quiet' });
    await waitFor('the server to end a client that sends', () => !chatty.socket.connected);
    expect(chatty.disconnectReason).toBe('io server disconnect');

    const main = io(realtime.url(''), {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const refusal = await new Promise<Error>((resolve) => main.once('connect_error', resolve));
    main.close();
    expect(refusal.message).toBe('UNAUTHENTICATED');
  });

  it('picks the same winners once when admins press the button on both gateways at once', async () => {
    for (let round = 0; round < 4; round++) {
      const id = `race-${round}`;
      await start(round % 2 ? one : two, { id, prizes: ['First', 'Second', 'Third'] });
      await Promise.all(logins.map((login, i) => enter(i % 2 ? one : two, id, login)));
      const watcher = await watch(id);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call(i % 2 ? one : two, 'POST', `/api/draws/${id}/winners`, { token: admin }),
        ),
      );
      const first = answers[0].body as Winner[];
      expect(first.map((w) => w.prize)).toEqual(['First', 'Second', 'Third']);
      for (const answer of answers) expect(answer).toEqual({ status: 200, body: first });
      const hash = await raw.hgetall(key(id, 'winners'));
      const winnerIds = Object.values(hash);
      expect(new Set(winnerIds).size).toBe(3);
      const left = await raw.smembers(key(id, 'entrants'));
      expect([...left, ...winnerIds].sort()).toEqual([...logins].sort());
      // Announced once, whoever won the race.
      await watcher.waitFor('draw:winners');
      await sleep(100);
      expect(watcher.events('draw:winners')).toHaveLength(1);
    }
  });

  it('closes a timed draw when its duration runs out', async () => {
    const started = await start(two, { id: 'flash', prizes: ['Sticker'], durationSeconds: 2 });
    const closesAt = (started.body as Json).closesAt as string;
    expect(Date.parse(closesAt) - Date.now()).toBeGreaterThan(1000);
    expect(Date.parse(closesAt) - Date.now()).toBeLessThanOrEqual(2000);
    const ttl = await raw.pttl(key('flash', 'is_open'));
    expect(ttl).toBeGreaterThan(1000);
    expect(ttl).toBeLessThanOrEqual(2000);
    expect((await enter(one, 'flash', logins[0])).status).toBe(201);
    await waitFor(
      'the draw to close by itself',
      async () => (await view(one, 'flash')).state === 'DRAW_CLOSED_WITH_ENTRANTS',
      5000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(closesAt) - 50);
    expect(await view(two, 'flash')).toEqual({
      id: 'flash',
      state: 'DRAW_CLOSED_WITH_ENTRANTS',
      prizes: ['Sticker'],
      entrants: 1,
      closesAt,
    });
    expect(await enter(two, 'flash', logins[1])).toMatchObject({
      status: 403,
      body: { code: 'DRAW_CLOSED' },
    });
    expect((await call(one, 'POST', '/api/draws/flash/winners', { token: admin })).body).toEqual([
      { name: `${logins[0]} Name`, prize: 'Sticker', image: github.avatarOf(logins[0]) },
    ]);
  });

  it('answers 503 within the GitHub deadline when GitHub hangs, never a hang or a 500', async () => {
    await start(one, { id: 'slow', prizes: ['Mug'] });
    github.slowDown(30_000);
    const started = Date.now();
    const answer = await enter(two, 'slow', 'late-comer');
    const took = Date.now() - started;
    expect(answer).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE' } });
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(6000);
    github.failWith(502);
    expect(await enter(two, 'slow', 'late-comer')).toMatchObject({
      status: 503,
      body: { code: 'UNAVAILABLE' },
    });
    github.healthy();
    expect((await enter(two, 'slow', 'late-comer')).status).toBe(201);
  });

  it('lets only admins start, close and draw', async () => {
    const member = await call(auth, 'POST', '/auth/register', {
      body: { login: 'member', name: 'Member', password: 'password-123' },
    });
    expect(member.status).toBe(201);
    const { token } = (
      await call(auth, 'POST', '/auth/login', {
        body: { login: 'member', password: 'password-123' },
      })
    ).body as { token: string };
    const body = { id: 'members-only', prizes: ['x'] };
    expect(await call(one, 'POST', '/api/draws', { body })).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHENTICATED' },
    });
    expect(await call(two, 'POST', '/api/draws', { body, token })).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN' },
    });
    expect(await call(two, 'POST', '/api/draws/launch/winners', { token })).toMatchObject({
      status: 403,
    });
  });
});
