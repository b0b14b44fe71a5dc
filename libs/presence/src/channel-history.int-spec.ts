import { RedisService } from '@lattice/redis';
import { RedisCluster, RedisServer, startPlatform, type PlatformInstance } from '@lattice/testing';
import { PresenceModule } from './presence.module';
import { historyKey, offsetKey } from './presence-keys';
import { PresenceStore } from './presence.store';

const PREFIX = 'it:';

type Sent = { channel: string; data: number; offset: string };

/**
 * Channel messages in Redis: offsets from the channel's one counter, the
 * capped history and its reads, standalone and on a cluster of three masters
 * (which refuses a script whose keys span slots).
 */
describe.each(['standalone', 'cluster'])('channel messages and history (%s)', (mode) => {
  let server: RedisServer | RedisCluster;
  let raw: ReturnType<(RedisServer | RedisCluster)['client']>;
  let platform: PlatformInstance;
  let redis: RedisService;
  let store: PresenceStore;

  const send = (channel: string, data: number) => store.message({ channel, data }, '');

  beforeAll(async () => {
    server = mode === 'cluster' ? await RedisCluster.start() : await RedisServer.start();
    raw = server.client();
    const env = {
      ...server.env,
      KEY_PREFIX: PREFIX,
      CHANNEL_HISTORY_SIZE: '5',
      CHANNEL_HISTORY_TTL: '60',
    };
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

  it('gives each message the channel’s next offset, after its presence events, and keeps the last ones', async () => {
    const joined = await store.join(
      { channel: 'talk', userId: '1', workerId: 'w', connectionId: 'c1', login: 'u1', name: 'U' },
      null,
    );
    const sent: Sent[] = [];
    for (let i = 1; i <= 8; i++) sent.push(await send('talk', i));
    expect(sent[0].offset > joined.change!.offset).toBe(true);
    for (let i = 1; i < sent.length; i++) {
      expect(sent[i].offset).toMatch(/^\d{16}$/);
      expect(BigInt(sent[i].offset)).toBe(BigInt(sent[i - 1].offset) + 1n);
    }
    // Five kept: the last five, oldest first.
    expect(await store.messages<Sent>('talk', 100)).toEqual(sent.slice(3));
    expect(await store.messages<Sent>('talk', 2)).toEqual(sent.slice(6));
    expect(await store.messages<Sent>('talk', 2, sent[4].offset)).toEqual(sent.slice(5, 7));
    expect(await store.messages<Sent>('talk', 100, sent[7].offset)).toEqual([]);
    expect(await store.messages<Sent>('elsewhere', 100)).toEqual([]);
    const ttl = await raw.pttl(`${PREFIX}${historyKey('talk')}`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('never gives an offset below the history’s, even when the counter was lost', async () => {
    const first = await send('lost', 1);
    await raw.del(`${PREFIX}${offsetKey('lost')}`);
    await raw.set(`${PREFIX}${offsetKey('lost')}`, '1');
    const second = await send('lost', 2);
    expect(BigInt(second.offset)).toBeGreaterThan(BigInt(first.offset));
    expect(await store.messages<Sent>('lost', 10)).toEqual([first, second]);
  });
});
