import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@lattice/config';
import { createApp } from '@lattice/http';
import { PresencePublisher } from '@lattice/presence';
import { RedisService } from '@lattice/redis';
import { SessionService } from '@lattice/session';
import { RedisCluster } from '@lattice/testing';
import { RealtimeModule } from '../realtime.module';
import { memberOf, PresenceClient } from '../../../../test/fixtures/presence/presence-client';

const PREFIX = 'c:';

/**
 * The realtime app on a Redis Cluster of three masters (which refuses scripts
 * across slots, and serves each channel's sharded pub/sub on the master of
 * its slot): two instances in process, joined by the sharded Socket.IO
 * adapter (SPUBLISH/SSUBSCRIBE), and the publisher's sharded path.
 */
describe('realtime presence on Redis Cluster', () => {
  let cluster: RedisCluster;
  const apps: NestFastifyApplication[] = [];
  const clients: PresenceClient[] = [];

  const startApp = async () => {
    const config = loadConfig('realtime', {
      ...cluster.env,
      KEY_PREFIX: PREFIX,
      LOG_LEVEL: 'fatal',
      PRESENCE_HEARTBEAT_MS: '200',
      PRESENCE_TTL_MS: '1000',
    });
    const app = await createApp(config, RealtimeModule.forRoot(config));
    await app.listen({ port: 0, host: '127.0.0.1' });
    apps.push(app);
    expect(await app.get(RedisService).whenReady(10_000)).toBe(true);
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { app, url: `http://127.0.0.1:${port}` };
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const app of apps) await app.close();
    await cluster?.dispose();
  });

  it('joins, updates, messages and publishes across two instances through sharded pub/sub', async () => {
    const one = await startApp();
    const two = await startApp();
    const sessions = one.app.get(SessionService);
    const meta = { ip: '127.0.0.1', userAgent: 'jest' };
    const ada = await sessions.create({ id: '1', login: 'ada', roles: [] }, meta);
    const bob = await sessions.create({ id: '2', login: 'bob', roles: [] }, meta);
    const a = await PresenceClient.connect(one.url, { token: ada.token });
    const b = await PresenceClient.connect(two.url, { token: bob.token });
    clients.push(a, b);

    expect(await a.join('cluster-room', { n: 1 })).toMatchObject({ ok: true });
    const joined = await b.join('cluster-room');
    expect(joined.ok && joined.members?.map((m) => m.login).sort()).toEqual(['ada', 'bob']);
    await a.waitFor('presence:joined', (p) => memberOf(p).login === 'bob');

    await a.emit('presence:update', { channel: 'cluster-room', meta: { n: 2 } });
    await b.waitFor('presence:updated', (p) => memberOf(p).meta.n === 2);
    await b.emit('channel:message', { channel: 'cluster-room', data: 'over shards' });
    expect((await a.waitFor('channel:message')).payload).toMatchObject({ data: 'over shards' });

    // From any app, through the sharded adapter's own channels; a 20-character room included.
    const publisher = two.app.get(PresencePublisher);
    await publisher.publish('cluster-room', 'draw:result', { winner: 'ada' });
    for (const client of [a, b]) await client.waitFor('draw:result', (p) => p.winner === 'ada');
    const twelve = 'abcdefghijkl'; // "channel:" + 12 characters: as long as a socket id
    await a.join(twelve);
    await b.join(twelve);
    await publisher.publish(twelve, 'draw:result', { winner: 'bob' });
    for (const client of [a, b]) await client.waitFor('draw:result', (p) => p.winner === 'bob');

    b.close();
    await a.waitFor('presence:left', (p) => memberOf(p).login === 'bob');
  });
});
