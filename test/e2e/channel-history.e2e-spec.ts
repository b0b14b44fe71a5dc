import { AppProcess, startTestRedis, waitFor, type TestRedis } from '@lattice/testing';
import { signUp, type Account } from '../fixtures/presence/accounts';
import { memberOf, PresenceClient } from '../fixtures/presence/presence-client';

type Message = { channel: string; from: { login: string }; data: unknown; offset: string };

/**
 * CONTRACT 8.3: channel messages carry the channel's offsets (one sequence
 * with its presence events), and members can read the channel's last
 * messages with `channel:history` or in a join's acknowledgement; two
 * realtime instances over one Redis.
 */
describe('channel offsets and history across two instances', () => {
  let redis: TestRedis;
  let auth: AppProcess;
  let one: AppProcess;
  let two: AppProcess;
  const clients: PresenceClient[] = [];
  let logins = 0;

  const account = (prefix: string) => signUp(auth, `${prefix}${++logins}`);
  const connect = async (app: AppProcess, who: Account) => {
    const client = await PresenceClient.connect(app.url(''), { token: who.token });
    clients.push(client);
    return client;
  };
  const history = (client: PresenceClient, payload: Record<string, unknown>) =>
    client.emit('channel:history', payload) as Promise<
      { ok: true; messages: Message[] } | { ok: false; code: string }
    >;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = {
      ...redis.env,
      PRESENCE_HEARTBEAT_MS: '250',
      PRESENCE_TTL_MS: '1500',
      CHANNEL_HISTORY_SIZE: '5',
    };
    [auth, one, two] = await Promise.all([
      AppProcess.start('auth', env),
      AppProcess.start('realtime', env),
      AppProcess.start('realtime', env),
    ]);
    await Promise.all(
      [auth, one, two].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await Promise.all([auth, one, two].map((app) => app?.kill()));
    await redis?.dispose();
  });

  it('numbers messages and presence events of a channel in one increasing sequence', async () => {
    const [ann, ben] = await Promise.all([account('ann'), account('ben')]);
    const a = await connect(one, ann);
    const b = await connect(two, ben);
    await a.join('seq');
    await b.join('seq');
    const joined = await a.waitFor('presence:joined', (p) => memberOf(p).login === ben.login);
    for (let n = 1; n <= 3; n++) {
      expect(await a.emit('channel:message', { channel: 'seq', data: { n } })).toEqual({
        ok: true,
      });
    }
    expect(await b.emit('presence:update', { channel: 'seq', meta: { away: true } })).toEqual({
      ok: true,
    });
    await waitFor('three messages', () => b.events('channel:message').length === 3);
    const updated = await a.waitFor('presence:updated');
    const offsets = [
      joined.payload.offset,
      ...b.events('channel:message').map((r) => r.payload.offset),
      updated.payload.offset,
    ] as string[];
    for (const offset of offsets) expect(offset).toMatch(/^\d{16}$/);
    expect([...offsets].sort()).toEqual(offsets);
    expect(new Set(offsets).size).toBe(offsets.length);
  });

  it('answers channel:history to members, oldest first, after `since`, at most `limit`, the last CHANNEL_HISTORY_SIZE kept', async () => {
    const [cat, dan, eve, fay] = await Promise.all([
      account('cat'),
      account('dan'),
      account('eve'),
      account('fay'),
    ]);
    const c = await connect(one, cat);
    const d = await connect(two, dan);
    const outsider = await connect(two, eve);
    await c.join('hist');
    await d.join('hist');
    for (let n = 1; n <= 7; n++) {
      expect(await c.emit('channel:message', { channel: 'hist', data: n })).toEqual({ ok: true });
    }
    await waitFor('seven messages', () => d.events('channel:message').length === 7);
    const delivered = d.events('channel:message').map((r) => r.payload as unknown as Message);

    // The last five, exactly as they were delivered.
    expect(await history(d, { channel: 'hist' })).toEqual({
      ok: true,
      messages: delivered.slice(2),
    });
    expect(await history(c, { channel: 'hist', limit: 2 })).toEqual({
      ok: true,
      messages: delivered.slice(5),
    });
    expect(await history(d, { channel: 'hist', since: delivered[3].offset, limit: 2 })).toEqual({
      ok: true,
      messages: delivered.slice(4, 6),
    });
    expect(await history(d, { channel: 'hist', since: delivered[6].offset })).toEqual({
      ok: true,
      messages: [],
    });

    // A join can ask for the last messages in the same round trip.
    const f = await connect(one, fay);
    const ack = (await f.emit('presence:join', { channel: 'hist', history: 3 })) as {
      ok: boolean;
      messages?: Message[];
    };
    expect(ack).toMatchObject({ ok: true, messages: delivered.slice(4) });

    expect(await history(outsider, { channel: 'hist' })).toMatchObject({
      ok: false,
      code: 'NOT_A_MEMBER',
    });
    for (const bad of [
      { channel: 'hist', limit: 0 },
      { channel: 'hist', since: 'yesterday' },
      { channel: 'hist', since: '1'.repeat(17) },
      { channel: 'hist', extra: true },
    ]) {
      expect(await history(d, bad)).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    }
    expect(await f.emit('presence:join', { channel: 'hist', history: -1 })).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
    });
  });
});
