import { PresenceModule, PresencePublisher } from '@lattice/presence';
import { RedisService } from '@lattice/redis';
import {
  AppProcess,
  sleep,
  startPlatform,
  startTestRedis,
  waitFor,
  type TestRedis,
} from '@lattice/testing';
import { getJson, signIn, signOut, signUp, type Account } from '../fixtures/presence/accounts';
import { memberOf, PresenceClient, type Member } from '../fixtures/presence/presence-client';

const ALLOWED_ORIGIN = 'https://app.example.com';

/**
 * CONTRACT 5 as users meet it: two realtime instances (and a gateway) as real
 * processes over one Redis, Socket.IO clients on both.
 */
describe('realtime presence across two instances', () => {
  let redis: TestRedis;
  let auth: AppProcess;
  let one: AppProcess;
  let two: AppProcess;
  let gateway: AppProcess;
  const clients: PresenceClient[] = [];
  let logins = 0;

  const account = (prefix: string) => signUp(auth, `${prefix}${++logins}`);
  const connect = async (app: AppProcess, who: Account) => {
    const client = await PresenceClient.connect(app.url(''), { token: who.token });
    clients.push(client);
    return client;
  };
  const names = (members: Member[] | undefined) => (members ?? []).map((m) => m.login).sort();

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = {
      ...redis.env,
      PRESENCE_HEARTBEAT_MS: '250',
      PRESENCE_TTL_MS: '1500',
      ALLOWED_ORIGINS: ALLOWED_ORIGIN,
    };
    [auth, one, two, gateway] = await Promise.all([
      AppProcess.start('auth', env),
      AppProcess.start('realtime', env),
      AppProcess.start('realtime', env),
      AppProcess.start('gateway', env),
    ]);
    await Promise.all(
      [auth, one, two, gateway].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await Promise.all([auth, one, two, gateway].map((app) => app?.kill()));
    await redis?.dispose();
  });

  it('refuses a handshake without a valid session with UNAUTHENTICATED', async () => {
    await expect(PresenceClient.connect(one.url(''))).rejects.toMatchObject({
      message: 'UNAUTHENTICATED',
    });
    await expect(
      PresenceClient.connect(two.url(''), { token: '1-AAAAAAAAAAAAAAAAAAAAAA.nope' }),
    ).rejects.toMatchObject({ message: 'UNAUTHENTICATED', data: { code: 'UNAUTHENTICATED' } });

    const ada = await account('ada');
    const byCookie = await PresenceClient.connect(one.url(''), {
      cookie: `theme=dark; sid=${ada.token}`,
    });
    clients.push(byCookie);
    expect((await byCookie.join('cookie-room')).ok).toBe(true);
    // A page of another origin must not ride on the user's cookie.
    await expect(
      PresenceClient.connect(one.url(''), {
        cookie: `sid=${ada.token}`,
        origin: 'https://evil.example',
      }),
    ).rejects.toMatchObject({ message: 'FORBIDDEN' });
    const allowed = await PresenceClient.connect(one.url(''), {
      cookie: `sid=${ada.token}`,
      origin: ALLOWED_ORIGIN,
    });
    clients.push(allowed);
    expect(allowed.connected).toBe(true);
  });

  it('announces joins, updates and leaves to members on the other instance, and lists the same members everywhere', async () => {
    const [alice, bob] = await Promise.all([account('alice'), account('bob')]);
    const a = await connect(one, alice);
    const b = await connect(two, bob);

    const first = await a.join('lobby', { status: 'here' });
    expect(first).toEqual({
      ok: true,
      members: [
        {
          userId: alice.userId,
          login: alice.login,
          name: alice.name,
          meta: { status: 'here' },
          connections: 1,
          joinedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ],
      offset: expect.stringMatching(/^\d{16}$/),
    });
    const second = await b.join('lobby');
    expect(second.ok && names(second.members)).toEqual([alice.login, bob.login].sort());
    // The members are as of bob's own join, announced to alice under the same offset.
    const ackOffset = second.ok ? second.offset : undefined;
    expect(ackOffset! > (first.ok ? first.offset! : '')).toBe(true);

    const joined = await a.waitFor('presence:joined', (p) => memberOf(p).userId === bob.userId);
    expect(joined.payload).toEqual({
      channel: 'lobby',
      member: {
        userId: bob.userId,
        login: bob.login,
        name: bob.name,
        meta: {},
        connections: 1,
        joinedAt: expect.any(String),
      },
      offset: ackOffset,
    });
    expect(b.events('presence:joined')).toEqual([]); // the joiner learns from its acknowledgement

    const lists = await Promise.all([
      getJson(one, '/realtime/presence/lobby', alice.token),
      getJson(two, '/realtime/presence/lobby', bob.token),
      getJson(gateway, '/api/presence/lobby', bob.token),
    ]);
    for (const list of lists) {
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ channel: 'lobby', members: second.ok ? second.members : [] });
    }

    expect(await a.emit('presence:update', { channel: 'lobby', meta: { status: 'away' } })).toEqual(
      {
        ok: true,
      },
    );
    const updated = await b.waitFor('presence:updated');
    expect(updated.payload).toMatchObject({
      channel: 'lobby',
      member: { userId: alice.userId, meta: { status: 'away' }, connections: 1 },
    });
    expect(String(updated.payload.offset) > ackOffset!).toBe(true);
    expect(b.events('presence:left')).toEqual([]);
    expect(b.events('presence:joined')).toEqual([]);

    expect(await b.emit('presence:leave', { channel: 'lobby' })).toEqual({ ok: true });
    const left = await a.waitFor('presence:left');
    expect(left.payload).toMatchObject({
      channel: 'lobby',
      member: { userId: bob.userId, connections: 0 },
    });
    expect(String(left.payload.offset) > String(updated.payload.offset)).toBe(true);
    // Once out, bob hears nothing more of the channel.
    await a.emit('presence:update', { channel: 'lobby', meta: { status: 'back' } });
    await sleep(300);
    expect(b.events('presence:updated')).toHaveLength(1);
    const after = await getJson(two, '/realtime/presence/lobby', bob.token);
    expect(names(after.body.members as Member[])).toEqual([alice.login]);
  });

  it('counts three tabs of one user as one member, joined once and left once', async () => {
    const [carol, dave] = await Promise.all([account('carol'), account('dave')]);
    const observer = await connect(two, dave);
    await observer.join('tabs');
    const tabs = [await connect(one, carol), await connect(two, carol), await connect(one, carol)];
    await tabs[0].join('tabs', { tab: 1 });
    await tabs[1].join('tabs', { tab: 2 });
    const third = await tabs[2].join('tabs');
    expect(third.ok && third.members?.find((m) => m.userId === carol.userId)).toMatchObject({
      connections: 3,
      meta: { tab: 2 },
    });
    await observer.waitFor('presence:joined', (p) => memberOf(p).userId === carol.userId);

    // A second tab setting its meta is an update, never a join.
    const newest = await observer.waitFor(
      'presence:updated',
      (p) => memberOf(p).userId === carol.userId,
    );
    expect(memberOf(newest.payload)).toMatchObject({ meta: { tab: 2 }, connections: 2 });

    tabs[1].close(); // the tab whose meta is shown goes: the member shows the other tab's meta
    const fallback = await observer.waitFor(
      'presence:updated',
      (p) => memberOf(p).userId === carol.userId && memberOf(p).meta.tab === 1,
    );
    expect(memberOf(fallback.payload)).toMatchObject({ meta: { tab: 1 }, connections: 2 });
    tabs[0].close();
    await sleep(500);
    expect(observer.events('presence:left')).toEqual([]);
    const listed = await getJson(one, '/realtime/presence/tabs', dave.token);
    expect((listed.body.members as Member[]).find((m) => m.userId === carol.userId)).toMatchObject({
      connections: 1,
    });

    await tabs[2].emit('presence:leave', { channel: 'tabs' });
    await observer.waitFor('presence:left', (p) => memberOf(p).userId === carol.userId);
    await sleep(300);
    const about = (event: string) =>
      observer.events(event, 'tabs').filter((r) => memberOf(r.payload).userId === carol.userId);
    expect(about('presence:joined')).toHaveLength(1);
    expect(about('presence:left')).toHaveLength(1);
  });

  it('announces a user joining from both instances at once exactly once', async () => {
    const [erin, watcher] = await Promise.all([account('erin'), account('watcher')]);
    const observer = await connect(one, watcher);
    await observer.join('race');
    const tabs = await Promise.all([one, two, one, two].map((app) => connect(app, erin)));
    await Promise.all(tabs.map((tab) => tab.join('race')));
    await observer.waitFor('presence:joined', (p) => memberOf(p).userId === erin.userId);
    for (const tab of tabs) tab.close();
    await observer.waitFor('presence:left', (p) => memberOf(p).userId === erin.userId);
    await sleep(300);
    const about = (event: string) =>
      observer.events(event, 'race').filter((r) => memberOf(r.payload).userId === erin.userId);
    expect(about('presence:joined')).toHaveLength(1);
    expect(about('presence:left')).toHaveLength(1);
  });

  it('delivers a user’s joins and leaves from both instances in the order they happened', async () => {
    const [flicker, watcher] = await Promise.all([account('flicker'), account('watcher')]);
    const observer = await connect(one, watcher);
    await observer.join('order');
    const [onOne, onTwo] = [await connect(one, flicker), await connect(two, flicker)];
    for (let round = 0; round < 15; round++) {
      await Promise.all([onOne.join('order'), onTwo.emit('presence:leave', { channel: 'order' })]);
      await Promise.all([onTwo.join('order'), onOne.emit('presence:leave', { channel: 'order' })]);
    }
    await onTwo.emit('presence:leave', { channel: 'order' });
    const joinsAndLeaves = () =>
      observer.received
        .filter(
          (r) => r.event !== 'presence:updated' && memberOf(r.payload).userId === flicker.userId,
        )
        .map((r) => r.event);
    await waitFor('the last leave', () => joinsAndLeaves().at(-1) === 'presence:left');
    await sleep(300);
    // Joined only for a first connection and left only for a last one: they must alternate.
    const sequence = joinsAndLeaves();
    expect(sequence.length).toBeGreaterThanOrEqual(2);
    sequence.forEach((event, i) =>
      expect(event).toBe(i % 2 === 0 ? 'presence:joined' : 'presence:left'),
    );
    const listed = await getJson(two, '/realtime/presence/order', watcher.token);
    expect(names(listed.body.members as Member[])).toEqual([watcher.login]);
  });

  it('lets only its owner join or read a user:<id> channel', async () => {
    const [owner, other] = await Promise.all([account('owner'), account('other')]);
    const mine = await connect(one, owner);
    const theirs = await connect(two, other);
    expect(await mine.join(`user:${owner.userId}`)).toMatchObject({ ok: true });
    expect(await theirs.join(`user:${owner.userId}`)).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
    expect(
      (await getJson(two, `/realtime/presence/user:${owner.userId}`, other.token)).status,
    ).toBe(403);
    expect(
      (await getJson(one, `/realtime/presence/user:${owner.userId}`, owner.token)).status,
    ).toBe(200);
  });

  it('answers invalid payloads with an error acknowledgement and keeps every connection', async () => {
    const [frank, gina] = await Promise.all([account('frank'), account('gina')]);
    const sender = await connect(one, frank);
    const bystander = await connect(two, gina);
    await sender.join('valid');
    await bystander.join('valid');
    const invalid: [string, unknown][] = [
      ['presence:join', undefined],
      ['presence:join', 'lobby'],
      ['presence:join', { channel: '' }],
      ['presence:join', { channel: 'has space' }],
      ['presence:join', { channel: 'x'.repeat(101) }],
      ['presence:join', { channel: 'valid', meta: ['not', 'an', 'object'] }],
      ['presence:join', { channel: 'valid', meta: { big: 'x'.repeat(1100) } }],
      ['presence:join', { channel: 'valid', meta: { blob: Buffer.from('binary') } }],
      ['presence:join', { channel: 'valid', unknown: true }],
      ['presence:update', { channel: 'valid' }],
      ['presence:update', { channel: 'valid', meta: null }],
      ['presence:leave', { channel: 42 }],
      ['channel:message', { channel: 'valid' }],
      ['channel:message', { channel: 'valid', data: 'x'.repeat(17 * 1024) }],
    ];
    for (const [event, payload] of invalid) {
      const ack = await sender.emit(event, payload);
      expect({ event, payload, ack }).toMatchObject({
        ack: { ok: false, code: 'VALIDATION_FAILED', message: expect.any(String) },
      });
    }
    // An event without an acknowledgement, or an unknown one, is ignored.
    sender.socket.emit('presence:join', { channel: '!!' });
    sender.socket.emit('no:such-event', { channel: 'valid' });
    expect(
      await sender.emit('presence:update', { channel: 'never-joined', meta: {} }),
    ).toMatchObject({
      ok: false,
      code: 'NOT_A_MEMBER',
    });

    expect(
      await sender.emit('channel:message', { channel: 'valid', data: { still: 'here' } }),
    ).toEqual({
      ok: true,
    });
    await bystander.waitFor('channel:message');
    expect(sender.connected && bystander.connected).toBe(true);
  });

  it('carries channel messages between members on both instances, members only, limited per user', async () => {
    const [hank, ivan, judy] = await Promise.all([
      account('hank'),
      account('ivan'),
      account('judy'),
    ]);
    const from = await connect(one, hank);
    const to = await connect(two, ivan);
    const outsider = await connect(two, judy);
    await from.join('chat');
    await to.join('chat');

    expect(
      await from.emit('channel:message', { channel: 'chat', data: { text: 'hello', n: 0 } }),
    ).toEqual({
      ok: true,
    });
    const got = await to.waitFor('channel:message');
    expect(got.payload).toEqual({
      channel: 'chat',
      from: { userId: hank.userId, login: hank.login },
      data: { text: 'hello', n: 0 },
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      offset: expect.stringMatching(/^\d{16}$/),
    });
    expect(outsider.events('channel:message')).toEqual([]);
    expect(await outsider.emit('channel:message', { channel: 'chat', data: 'hi' })).toMatchObject({
      ok: false,
      code: 'NOT_A_MEMBER',
    });

    // 30 messages per 10 s per user: the first went already.
    const acks = [];
    for (let n = 1; n <= 30; n++)
      acks.push(await from.emit('channel:message', { channel: 'chat', data: { n } }));
    expect(acks.slice(0, 29).every((ack) => ack.ok)).toBe(true);
    expect(acks[29]).toMatchObject({
      ok: false,
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    await waitFor('29 more messages', () => to.events('channel:message').length === 30);
    expect(to.events('channel:message').map((r) => (r.payload.data as { n: number }).n)).toEqual(
      Array.from({ length: 30 }, (_, n) => n),
    );
    expect(from.events('channel:message')).toEqual([]);
  });

  it('disconnects a socket within two seconds of its session being revoked, and refuses it afterwards', async () => {
    const kate = await account('kate');
    const second = await signIn(auth, kate.login);
    const revoked = await connect(one, kate);
    const survivor = await connect(two, second);
    await revoked.join('revoke');
    await survivor.join('revoke');

    await signOut(auth, kate);
    const started = Date.now();
    await waitFor('the revoked socket to be disconnected', () => !revoked.connected, 5_000, 10);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(revoked.disconnectReason).toBe('io server disconnect');
    expect(survivor.connected).toBe(true);
    await expect(PresenceClient.connect(two.url(''), { token: kate.token })).rejects.toMatchObject({
      message: 'UNAUTHENTICATED',
    });
    // The user still has a connection in the channel, so nobody saw them leave.
    const listed = await getJson(one, '/realtime/presence/revoke', second.token);
    expect(listed.body.members).toEqual([
      expect.objectContaining({ userId: kate.userId, connections: 1 }),
    ]);
  });

  it('delivers events that another app publishes through the Redis emitter', async () => {
    const [lena, mike, nora] = await Promise.all([
      account('lena'),
      account('mike'),
      account('nora'),
    ]);
    const listeners = [await connect(one, lena), await connect(two, mike)];
    const elsewhere = await connect(two, nora);
    for (const client of listeners) await client.join('draws');
    await elsewhere.join('other');

    const platform = await startPlatform({ env: redis.env, imports: [PresenceModule] });
    try {
      await platform.get(RedisService).whenReady(5_000);
      const publisher = platform.get(PresencePublisher);
      await publisher.publish('draws', 'draw:result', { id: 'spring', winners: ['octocat'] });
      for (const client of listeners) {
        const got = await client.waitFor('draw:result');
        expect(got.payload).toEqual({ id: 'spring', winners: ['octocat'] });
      }
      await sleep(200);
      expect(elsewhere.events('draw:result')).toEqual([]);
      await expect(publisher.publish('draws', 'presence:left', {})).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(publisher.publish('no spaces', 'draw:result', {})).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    } finally {
      await platform.close();
    }
  });

  it('answers GET presence only to signed-in callers, with 400 for a bad channel name', async () => {
    const olga = await account('olga');
    expect((await getJson(one, '/realtime/presence/lobby')).body).toMatchObject({
      statusCode: 401,
      code: 'UNAUTHENTICATED',
    });
    expect((await getJson(gateway, '/api/presence/lobby')).status).toBe(401);
    const bad = await getJson(one, `/realtime/presence/${'x'.repeat(101)}`, olga.token);
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect((await getJson(gateway, '/api/presence/empty-room', olga.token)).body).toEqual({
      channel: 'empty-room',
      members: [],
    });
  });
});
