import { RedisService } from '@lattice/redis';
import {
  RedisCluster,
  RedisServer,
  sleep,
  startPlatform,
  waitFor,
  type PlatformInstance,
  type TestRedis,
} from '@lattice/testing';
import { busChannelOf, offsetKey, roomOf } from './presence-keys';
import { MetricsService } from '@lattice/observability';
import { PresenceLeases } from './presence.leases';
import { PresenceModule } from './presence.module';
import { PresenceReaper } from './presence.reaper';
import { PresenceStore } from './presence.store';
import type { PresenceChange, PresenceConnection } from './presence.types';

const PREFIX = 'it:';
const TTL_MS = 400;

type Raw = ReturnType<TestRedis['client']>;

/**
 * The presence scripts against a real redis-server, standalone and as a
 * cluster of three masters (which refuses a script whose keys span slots, so
 * it shows that every script's keys share a hash tag).
 */
describe.each(['standalone', 'cluster'])('presence in Redis (%s)', (mode) => {
  let server: RedisServer | RedisCluster;
  let raw: Raw;
  let platform: PlatformInstance;
  let redis: RedisService;
  let store: PresenceStore;
  let leases: PresenceLeases;
  let n = 0;

  const connection = (
    channel: string,
    userId: string,
    workerId = 'w1',
    connectionId = `conn-${++n}`,
  ): PresenceConnection => ({
    channel,
    userId,
    workerId,
    connectionId,
    login: `user${userId}`,
    name: `User ${userId}`,
  });
  const kinds = (changes: (PresenceChange | null)[]) => changes.map((c) => c?.kind ?? 'none');

  beforeAll(async () => {
    server = mode === 'cluster' ? await RedisCluster.start() : await RedisServer.start();
    raw = server.client();
    const env: Record<string, string> = {
      ...server.env,
      KEY_PREFIX: PREFIX,
      PRESENCE_HEARTBEAT_MS: '100',
      PRESENCE_TTL_MS: String(TTL_MS),
    };
    platform = await startPlatform({ app: 'realtime', env, imports: [PresenceModule] });
    redis = platform.get(RedisService);
    expect(await redis.whenReady(10_000)).toBe(true);
    expect(redis.isCluster).toBe(mode === 'cluster');
    store = platform.get(PresenceStore);
    leases = platform.get(PresenceLeases);
  });

  afterAll(async () => {
    raw?.disconnect();
    await platform?.close();
    await server?.dispose();
  });

  it('decides joined, updated and left once per user, however many connections they have', async () => {
    const tab1 = connection('room', '7');
    const tab2 = connection('room', '7', 'w2');
    const first = await store.join(tab1, { status: 'in' }, { withMembers: true });
    expect(first.change).toEqual({
      kind: 'joined',
      channel: 'room',
      member: {
        userId: '7',
        login: 'user7',
        name: 'User 7',
        meta: { status: 'in' },
        connections: 1,
        joinedAt: expect.any(String),
      },
      offset: expect.stringMatching(/^\d{16}$/),
    });
    expect(first.members).toEqual([first.change!.member]);
    expect(first.offset).toBe(first.change!.offset);
    const second = await store.join(tab2, null, { withMembers: true });
    expect(second.change).toBeNull();
    expect(second.members).toEqual([{ ...first.change!.member, connections: 2 }]);
    // Nothing announced: the members are as of the channel's last event.
    expect(second.offset).toBe(first.offset);

    const update = await store.update(tab2, { status: 'typing' });
    expect(update).toMatchObject({ kind: 'updated', member: { meta: { status: 'typing' } } });
    expect(await store.update(tab2, { status: 'typing' })).toBeNull();
    // The newest meta leaves with its connection: the user shows the other one's.
    expect(await store.leave(tab2)).toMatchObject({
      kind: 'updated',
      member: { meta: { status: 'in' }, connections: 1 },
    });
    expect(await store.leave(tab2)).toBeNull();
    expect(await store.leave(tab1)).toMatchObject({
      kind: 'left',
      member: { userId: '7', connections: 0 },
    });
    expect(await store.members('room')).toEqual([]);
    await expect(store.update(tab1, {})).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
  });

  it('announces a user once when many of their connections join and leave at the same time', async () => {
    const tabs = Array.from({ length: 24 }, (_, i) => connection('stampede', '9', `w${i % 3}`));
    const joins = await Promise.all(tabs.map((tab) => store.join(tab, { i: 1 })));
    expect(kinds(joins.map((j) => j.change)).filter((k) => k === 'joined')).toHaveLength(1);
    expect(await store.members('stampede')).toEqual([expect.objectContaining({ connections: 24 })]);
    const leaves = await Promise.all(tabs.map((tab) => store.leave(tab)));
    expect(kinds(leaves).filter((k) => k === 'left')).toHaveLength(1);
    expect(kinds(leaves).filter((k) => k !== 'none' && k !== 'left')).toEqual([]);
  });

  it('announces every change once, on the room’s bus channel, in the order Redis decided, with increasing offsets', async () => {
    const channel = busChannelOf(PREFIX, roomOf('heard'));
    // SSUBSCRIBE is answered by the master of the channel's slot only.
    const listener =
      server instanceof RedisCluster ? (await server.masterOf(channel)).client() : server.client();
    const heard: { event: string; member: string; offset: string; except: string[] }[] = [];
    listener.on(mode === 'cluster' ? 'smessage' : 'message', (_from: string, text: string) => {
      // The two adapters' formats: [uid, packet, opts] and { uid, type, data: { packet, opts } }.
      const parsed = JSON.parse(text) as unknown;
      const [packet, opts] = Array.isArray(parsed)
        ? [parsed[1], parsed[2]]
        : [
            (parsed as { data: { packet: unknown } }).data.packet,
            (parsed as { data: { opts: unknown } }).data.opts,
          ];
      const [event, payload] = (
        packet as { data: [string, { member: { userId: string }; offset: string }] }
      ).data;
      heard.push({
        event,
        member: payload.member.userId,
        offset: payload.offset,
        except: (opts as { except: string[] }).except,
      });
    });
    if (mode === 'cluster') await listener.ssubscribe(channel);
    else await listener.subscribe(channel);
    try {
      const tab1 = connection('heard', '41');
      const tab2 = connection('heard', '41');
      const changes = [
        (await store.join(tab1, null)).change,
        (await store.join(tab2, null)).change,
        await store.update(tab2, { typing: true }),
        (await store.join(connection('heard', '42'), null)).change,
        await store.leave(tab2),
        await store.leave(tab1),
      ].filter((change) => change !== null);
      await waitFor('five announcements', () => heard.length === 5);
      const offset = expect.stringMatching(/^\d{16}$/);
      expect(heard).toEqual([
        { event: 'presence:joined', member: '41', offset, except: [tab1.connectionId] },
        { event: 'presence:updated', member: '41', offset, except: [tab2.connectionId] },
        { event: 'presence:joined', member: '42', offset, except: [expect.any(String)] },
        { event: 'presence:updated', member: '41', offset, except: [tab2.connectionId] },
        { event: 'presence:left', member: '41', offset, except: [tab1.connectionId] },
      ]);
      // One counter per channel: each event's offset is the one before it plus one.
      const offsets = heard.map((h) => BigInt(h.offset));
      expect(offsets.slice(1).map((o, i) => o - offsets[i])).toEqual([1n, 1n, 1n, 1n]);
      expect(changes.map((change) => change.offset)).toEqual(heard.map((h) => h.offset));
    } finally {
      listener.disconnect();
    }
  });

  it('never gives a channel an offset lower than one it gave before, even after losing its counter', async () => {
    const before = await store.join(connection('counted', '61'), null);
    // The channel's keys expired, or Redis came back empty: the counter starts again.
    await raw.del(`${PREFIX}${offsetKey('counted')}`);
    const after = await store.join(connection('counted', '62'), null);
    expect(after.change!.offset > before.change!.offset).toBe(true);
    expect(after.offset).toBe(after.change!.offset);
  });

  it('keeps meta exactly as the JSON the client sent', async () => {
    const meta = {
      emoji: '🎉 ünïcödé',
      quote: 'say "hi"/\\',
      nested: { list: [1, 2.5, -3e-7, null, true, 'x'], empty: {}, none: [] },
      big: 9007199254740991,
    };
    const { change } = await store.join(connection('json', '3'), meta);
    expect(change!.member.meta).toEqual(meta);
    expect((await store.members('json'))[0].meta).toEqual(meta);
  });

  it('lists members in the order they came', async () => {
    for (const userId of ['30', '4', '200']) {
      await store.join(connection('order', userId), null);
      await sleep(2);
    }
    expect((await store.members('order')).map((m) => m.userId)).toEqual(['30', '4', '200']);
  });

  it('gives every key a TTL', async () => {
    await store.join(connection('expiring', '5'), { a: 1 });
    await leases.indexChannel('w-ttl', 'expiring');
    await leases.renew('w-ttl', true);
    const keys = await server.keys(`${PREFIX}presence:*`);
    expect(keys.length).toBeGreaterThan(4);
    for (const key of keys) {
      const ttl = await raw.pttl(key);
      // The recovery log lives as long as a dropped connection may come back.
      const bound = key.endsWith(':events') ? store.recoveryMs : store.timings.keyTtlMs;
      expect({ key, expires: ttl > 0 && ttl <= bound }).toEqual({
        key,
        expires: true,
      });
    }
  });

  it('reaps only the connections still recorded under the dead worker', async () => {
    const stays = connection('reap', '11', 'dead');
    const goes = connection('reap', '11', 'dead');
    const other = connection('reap', '12', 'dead');
    await store.join(stays, { from: 'stays' });
    await store.join(goes, { from: 'goes' });
    await store.join(other, null);
    // Its worker came back under a new id and recorded `stays` again.
    await store.join({ ...stays, workerId: 'alive' }, null, { restore: true });
    const reaped = await store.reap('reap', 'dead', 1000);
    expect(reaped.remaining).toBe(0);
    expect(reaped.changes.map((c) => [c.kind, c.member.userId]).sort()).toEqual([
      ['left', '12'],
      ['updated', '11'],
    ]);
    expect(await store.members('reap')).toEqual([
      expect.objectContaining({ userId: '11', meta: { from: 'stays' }, connections: 1 }),
    ]);
  });

  it('renews a live lease, and never a lapsed or reused one', async () => {
    expect(await leases.renew('w-renew', true)).toBe(true);
    expect(await leases.renew('w-renew', false)).toBe(true);
    expect(await leases.renew('w-renew', true)).toBe(false);
    await sleep(TTL_MS + 50);
    expect(await leases.renew('w-renew', false)).toBe(false);
    expect(await leases.renew('w-never-taken', false)).toBe(false);
  });

  it('hands a lapsed worker to one reaper, sweeps its channels, and sweeps once more after a grace period', async () => {
    await leases.claim(); // earlier tests' workers
    await leases.renew('w-dies', true);
    const users = ['21', '22', '23'];
    for (const [i, channel] of ['a', 'b', 'c'].entries()) {
      await leases.indexChannel('w-dies', channel);
      await store.join(connection(channel, users[i], 'w-dies'), null);
      await store.join(connection(channel, '99', 'w-lives'), null);
    }
    await sleep(TTL_MS + 50);
    const claims = await Promise.all([leases.claim(), leases.claim(), leases.claim()]);
    expect(claims.flatMap((c) => c.lapsed).filter((id) => id === 'w-dies')).toHaveLength(1);

    const announced: PresenceChange[] = [];
    expect(await leases.sweep('w-dies', (changes) => announced.push(...changes))).toBe(3);
    expect(announced.map((c) => [c.channel, c.kind, c.member.userId]).sort()).toEqual([
      ['a', 'left', '21'],
      ['b', 'left', '22'],
      ['c', 'left', '23'],
    ]);
    for (const channel of ['a', 'b', 'c']) {
      expect((await store.members(channel)).map((m) => m.userId)).toEqual(['99']);
    }

    // A write that was in flight when the lease lapsed lands after the sweep...
    await store.join(connection('a', '24', 'w-dies'), null);
    await sleep(TTL_MS + 50);
    const { due } = await leases.claim();
    expect(due).toContain('w-dies');
    // ...and the final sweep takes it out, then the worker is forgotten.
    const late: PresenceChange[] = [];
    await leases.sweep('w-dies', (changes) => late.push(...changes));
    expect(late.map((c) => [c.kind, c.member.userId])).toEqual([['left', '24']]);
    await leases.forget('w-dies');
    expect(await server.keys(`${PREFIX}presence:*w-dies*`)).toEqual([]);
    expect(await raw.zscore(`${PREFIX}presence:{workers}:reaped`, 'w-dies')).toBeNull();
  });
  it('reaps a dead worker from a reaper of its own: its connections leave, the live one stays', async () => {
    const metrics = platform.get(MetricsService);
    const reaper = platform.get(PresenceReaper);
    await reaper.reapOnce(); // earlier tests' workers
    await leases.renew('w-killed', true);
    await leases.indexChannel('w-killed', 'reaped');
    await store.join(connection('reaped', '31', 'w-killed'), null);
    await store.join(connection('reaped', '32', 'w-alive'), null);
    await sleep(TTL_MS + 50);
    reaper.start();
    await waitFor('the dead worker reaped', async () =>
      (await store.members('reaped')).every((m) => m.userId !== '31') ? true : undefined,
    );
    expect((await store.members('reaped')).map((m) => m.userId)).toEqual(['32']);
    expect(
      await metrics.registry.getSingleMetricAsString('lattice_presence_workers_reaped_total'),
    ).toMatch(/lattice_presence_workers_reaped_total 1/);
    await reaper.stop();
  });
});
