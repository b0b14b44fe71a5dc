import { AppProcess, RedisServer, scanKeys, sleep, waitFor } from '@lattice/testing';
import { getJson, signUp, type Account } from '../fixtures/presence/accounts';
import { memberOf, PresenceClient, type Member } from '../fixtures/presence/presence-client';

const HEARTBEAT_MS = 250;
const TTL_MS = 1500;
/** Every presence key's TTL with these settings: 4 × max(PRESENCE_TTL_MS, 5 s). */
const KEY_TTL_MS = 20_000;

/**
 * Stale presence is the failure this design exists to prevent: realtime
 * workers die (SIGKILL), stop (SIGTERM), stall, or lose Redis, and the
 * members they held must not stay "online".
 *
 * Standalone only (not in jest project e2e-cluster): it stops and restarts
 * one redis-server under the workers.
 */
describe('presence when a realtime worker dies', () => {
  let redis: RedisServer;
  let auth: AppProcess;
  const apps: AppProcess[] = [];
  const clients: PresenceClient[] = [];
  let logins = 0;

  const env = () => ({
    REDIS_URL: redis.url,
    PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    PRESENCE_TTL_MS: String(TTL_MS),
  });
  const realtime = async () => {
    const app = await AppProcess.start('realtime', env());
    apps.push(app);
    await waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200);
    return app;
  };
  const account = () => signUp(auth, `crash${++logins}`);
  const connect = async (app: AppProcess, who: Account) => {
    const client = await PresenceClient.connect(app.url(''), { token: who.token });
    clients.push(client);
    return client;
  };
  const about = (client: PresenceClient, event: string, who: Account) =>
    client.events(event).filter((r) => memberOf(r.payload).userId === who.userId);

  beforeAll(async () => {
    redis = await RedisServer.start();
    auth = await AppProcess.start('auth', env());
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await Promise.all([auth, ...apps].map((app) => app?.kill()));
    await redis?.dispose();
  });

  it('removes the members of a SIGKILLed instance on the survivor within PRESENCE_TTL_MS plus one heartbeat', async () => {
    const [doomed, survivor] = await Promise.all([realtime(), realtime()]);
    const [watcher, traveller, ...victims] = await Promise.all(
      Array.from({ length: 5 }, () => account()),
    );
    const observer = await connect(survivor, watcher);
    await observer.join('crash');
    for (const victim of victims)
      await (await connect(doomed, victim)).join('crash', { on: 'doomed' });
    // One user with a tab on each instance: the crash takes a tab, not the user.
    await (await connect(survivor, traveller)).join('crash', { on: 'survivor' });
    await (await connect(doomed, traveller)).join('crash', { on: 'doomed' });
    await waitFor(
      'every join to be announced',
      () => observer.events('presence:joined').length === 4,
    );

    const killedAt = Date.now();
    await doomed.kill();
    const left = await Promise.all(
      victims.map((victim) =>
        observer.waitFor('presence:left', (p) => memberOf(p).userId === victim.userId, 10_000),
      ),
    );
    const reapedWithin = Math.max(...left.map((r) => r.at)) - killedAt;
    expect(reapedWithin).toBeLessThanOrEqual(TTL_MS + HEARTBEAT_MS);

    // The traveller stays, showing the meta of the tab that is still there.
    const fallback = await observer.waitFor(
      'presence:updated',
      (p) => memberOf(p).userId === traveller.userId && memberOf(p).meta.on === 'survivor',
    );
    expect(memberOf(fallback.payload)).toMatchObject({ meta: { on: 'survivor' }, connections: 1 });
    expect(about(observer, 'presence:left', traveller)).toEqual([]);
    const listed = await getJson(survivor, '/realtime/presence/crash', watcher.token);
    expect((listed.body.members as Member[]).map((m) => m.userId).sort()).toEqual(
      [watcher.userId, traveller.userId].sort(),
    );

    // After its final sweep nothing of the dead worker is left in Redis.
    const raw = redis.client();
    try {
      await waitFor(
        'the dead worker to be forgotten',
        async () =>
          (await raw.zcard('presence:{workers}:reaped')) === 0 &&
          (await raw.zcard('presence:{workers}:leases')) === 1,
        10_000,
      );
      const indexes = await scanKeys(raw, 'presence:worker:*');
      expect(indexes).toHaveLength(1); // the survivor's own
    } finally {
      raw.disconnect();
    }
    await survivor.kill();
  });

  it('removes the members of a SIGTERMed instance at once, and exits 0', async () => {
    const [leaving, staying] = await Promise.all([realtime(), realtime()]);
    const [watcher, victim] = await Promise.all([account(), account()]);
    const observer = await connect(staying, watcher);
    await observer.join('drain');
    const gone = await connect(leaving, victim);
    await gone.join('drain');
    await observer.waitFor('presence:joined', (p) => memberOf(p).userId === victim.userId);

    const stoppedAt = Date.now();
    expect(await leaving.stop('SIGTERM')).toBe(0);
    const left = await observer.waitFor(
      'presence:left',
      (p) => memberOf(p).userId === victim.userId,
    );
    // Not after a lapsed lease: the instance removed its members itself before exiting.
    expect(left.at - stoppedAt).toBeLessThan(TTL_MS);
    // Closed at the transport, so a real client would reconnect, to another instance.
    expect(gone.disconnectReason).toBe('transport close');
    await staying.kill();
  });

  it('takes a stalled instance’s members out, and back in when it resumes under a new worker id', async () => {
    const [stalling, other] = await Promise.all([realtime(), realtime()]);
    const [watcher, sleeper] = await Promise.all([account(), account()]);
    const observer = await connect(other, watcher);
    await observer.join('stall');
    const sleepy = await connect(stalling, sleeper);
    await sleepy.join('stall', { mood: 'sleepy' });
    await observer.waitFor('presence:joined', (p) => memberOf(p).userId === sleeper.userId);

    process.kill(stalling.pid!, 'SIGSTOP');
    try {
      await observer.waitFor('presence:left', (p) => memberOf(p).userId === sleeper.userId, 10_000);
    } finally {
      process.kill(stalling.pid!, 'SIGCONT');
    }
    const back = await observer.waitFor(
      'presence:joined',
      (p) =>
        memberOf(p).userId === sleeper.userId &&
        about(observer, 'presence:joined', sleeper).length === 2,
      10_000,
    );
    expect(memberOf(back.payload)).toMatchObject({ meta: { mood: 'sleepy' }, connections: 1 });
    // The resumed worker carries on: its socket still takes part.
    expect(await sleepy.emit('channel:message', { channel: 'stall', data: 'awake' })).toEqual({
      ok: true,
    });
    await observer.waitFor('channel:message');
    await sleep(2 * TTL_MS); // past the final sweep of the old worker id
    const listed = await getJson(other, '/realtime/presence/stall', watcher.token);
    expect((listed.body.members as Member[]).map((m) => m.userId).sort()).toEqual(
      [watcher.userId, sleeper.userId].sort(),
    );
    expect(about(observer, 'presence:left', sleeper)).toHaveLength(1);
    await Promise.all([stalling.kill(), other.kill()]);
  });

  it('keeps a TTL on every presence key, so even a crash of every worker leaves nothing for ever', async () => {
    const app = await realtime();
    const [first, second] = await Promise.all([account(), account()]);
    await (await connect(app, first)).join('ttl', { a: 1 });
    await (await connect(app, second)).join(`user:${second.userId}`);
    const raw = redis.client();
    try {
      const keys = await scanKeys(raw, 'presence:*');
      expect(keys.length).toBeGreaterThanOrEqual(7);
      for (const key of keys) {
        const ttl = await raw.pttl(key);
        expect({ key, ttl }).toEqual({ key, ttl: expect.any(Number) });
        expect(ttl).toBeGreaterThan(0);
        // A channel's message history lives CHANNEL_HISTORY_TTL (a day) after its last message,
        // its recovery log REALTIME_RECOVERY_MS (two minutes) after its last event.
        const bound = key.endsWith(':history')
          ? 86_400_000
          : key.endsWith(':events')
            ? 120_000
            : KEY_TTL_MS;
        expect(ttl).toBeLessThanOrEqual(bound);
      }
    } finally {
      raw.disconnect();
    }
    await app.kill();
  });

  it('answers UNAVAILABLE while Redis is down and keeps running', async () => {
    const app = await realtime();
    const who = await account();
    const client = await connect(app, who);
    await client.join('outage');
    await redis.stop();
    try {
      expect(await client.join('during-outage')).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
      expect(await client.emit('channel:message', { channel: 'outage', data: 1 })).toMatchObject({
        ok: false,
      });
      expect((await fetch(app.url('/health/live'))).status).toBe(200);
    } finally {
      await redis.restart();
    }
    await waitFor(
      'ready again',
      async () => (await fetch(app.url('/health/ready'))).status === 200,
    );
    await app.kill();
  });
});
