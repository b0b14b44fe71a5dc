import { RedisService } from '@lattice/redis';
import { RedisCluster, RedisServer, startPlatform, type PlatformInstance } from '@lattice/testing';
import { PresenceModule } from './presence.module';
import { eventsKey, offsetKey } from './presence-keys';
import { PresenceStore } from './presence.store';
import type { PresenceConnection } from './presence.types';

const PREFIX = 'it:';

const connection = (channel: string, userId: string, connectionId: string, workerId = 'w') =>
  ({
    channel,
    userId,
    connectionId,
    workerId,
    login: `u${userId}`,
    name: 'U',
  }) as PresenceConnection;

/**
 * The recovery log (REALTIME_RECOVERY_MS): every event of a channel, messages
 * and presence changes, in offset order, and a gap told as such; standalone
 * and on a cluster of three masters.
 */
describe.each(['standalone', 'cluster'])('the channels’ recovery log (%s)', (mode) => {
  let server: RedisServer | RedisCluster;
  let raw: ReturnType<(RedisServer | RedisCluster)['client']>;
  let platform: PlatformInstance;
  let redis: RedisService;
  let store: PresenceStore;

  beforeAll(async () => {
    server = mode === 'cluster' ? await RedisCluster.start() : await RedisServer.start();
    raw = server.client();
    const env = { ...server.env, KEY_PREFIX: PREFIX, REALTIME_RECOVERY_MS: '30000' };
    platform = await startPlatform({ app: 'realtime', env, imports: [PresenceModule] });
    redis = platform.get(RedisService);
    expect(await redis.whenReady(10_000)).toBe(true);
    store = platform.get(PresenceStore);
  });

  afterAll(async () => {
    raw?.disconnect();
    await platform?.close();
    await server?.dispose();
  });

  it('keeps every event after an offset, in order, with the socket each was not sent to', async () => {
    const { offset: start } = await store.join(connection('log', '1', 'c1'), null);
    await store.join(connection('log', '2', 'c2'), null);
    await store.message({ channel: 'log', data: 'hi' }, 'c2');
    await store.update(connection('log', '2', 'c2'), { away: true });
    await store.leave(connection('log', '2', 'c2'));
    const events = await store.eventsSince('log', start);
    expect(events?.map((e) => [e.event, e.except])).toEqual([
      ['presence:joined', 'c2'],
      ['channel:message', 'c2'],
      ['presence:updated', 'c2'],
      ['presence:left', 'c2'],
    ]);
    const offsets = events?.map((e) => e.offset) ?? [];
    expect(offsets.map((o) => BigInt(o) - BigInt(start))).toEqual([1n, 2n, 3n, 4n]);
    expect(JSON.parse(events?.[1].payload ?? '')).toMatchObject({ data: 'hi', offset: offsets[1] });
    expect(await store.eventsSince('log', offsets[3])).toEqual([]);
    const ttl = await raw.pttl(`${PREFIX}${eventsKey('log')}`);
    expect(ttl > 0 && ttl <= 30_000).toBe(true);
  });

  it('tells a gap: events no longer kept, or a channel whose counter is gone', async () => {
    const { offset: start } = await store.join(connection('gap', '1', 'c1'), null);
    await store.message({ channel: 'gap', data: 1 }, '');
    await store.message({ channel: 'gap', data: 2 }, '');
    await raw.xtrim(`${PREFIX}${eventsKey('gap')}`, 'MAXLEN', 1);
    expect(await store.eventsSince('gap', start)).toBeNull();
    const [last] = (await store.eventsSince('gap', (BigInt(start) + 1n).toString())) ?? [];
    expect(last?.event).toBe('channel:message');
    await raw.del(`${PREFIX}${offsetKey('gap')}`);
    expect(await store.eventsSince('gap', start)).toBeNull();
  });

  it('removes a parked connection late only while the same worker still holds it', async () => {
    await store.join(connection('parked', '1', 'c1', 'old'), null);
    // It came back on another instance, which holds it now.
    await store.join(connection('parked', '1', 'c1', 'new'), null, { restore: true });
    expect(
      await store.leave(connection('parked', '1', 'c1', 'old'), { onlyIfHeld: true }),
    ).toBeNull();
    expect((await store.members('parked')).map((m) => m.userId)).toEqual(['1']);
    const change = await store.leave(connection('parked', '1', 'c1', 'new'), { onlyIfHeld: true });
    expect(change?.kind).toBe('left');
    expect(await store.members('parked')).toEqual([]);
  });
});
