import { Module } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { MetricsModule } from '@lattice/observability';
import { PresenceModule, PresenceStore, workerChannelsKey } from '@lattice/presence';
import { RedisService } from '@lattice/redis';
import { RedisServer, startPlatform, waitFor, type PlatformInstance } from '@lattice/testing';
import { ConnectionRegistry } from './connection.registry';
import { MembershipLedger } from './membership.ledger';
import { PresenceWorker } from './presence.worker';
import { RealtimeConnection } from './realtime.connection';

/** The worker's side of the realtime presence feature, without its Socket.IO service. */
@Module({
  imports: [PresenceModule, MetricsModule],
  providers: [PresenceWorker, ConnectionRegistry, MembershipLedger],
})
class LedgerUnderTest {}

const PREFIX = 'ledger:';

/**
 * The worker's membership bookkeeping against a real redis-server: every
 * record under the worker's fresh lease and in its channel index, and
 * everything recorded again under a new id when Redis lost the lease.
 */
describe('MembershipLedger', () => {
  let server: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  let platform: PlatformInstance;
  let store: PresenceStore;
  let worker: PresenceWorker;
  let ledger: MembershipLedger;
  let registry: ConnectionRegistry;
  let n = 0;

  const connect = (userId: string): RealtimeConnection => {
    const socket = { id: `sock-${++n}` } as Socket;
    const connection = new RealtimeConnection(socket, {
      userId,
      login: `user${userId}`,
      name: `User ${userId}`,
      sessionId: `session-${n}`,
      token: `token-${n}`,
    });
    registry.add(connection);
    return connection;
  };
  const join = async (connection: RealtimeConnection, channel: string) =>
    ledger.enter(connection, channel, await ledger.writableId(connection, channel), null);
  const indexOf = (workerId: string) => raw.smembers(`${PREFIX}${workerChannelsKey(workerId)}`);
  const userIds = async (channel: string) =>
    (await store.members(channel)).map((member) => member.userId).sort();

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = server.client();
  });

  afterAll(async () => {
    raw.disconnect();
    await server.stop();
  });

  beforeEach(async () => {
    await raw.flushall();
    platform = await startPlatform({
      app: 'realtime',
      env: {
        ...server.env,
        KEY_PREFIX: PREFIX,
        PRESENCE_HEARTBEAT_MS: '100',
        PRESENCE_TTL_MS: '400',
      },
      imports: [LedgerUnderTest],
    });
    expect(await platform.get(RedisService).whenReady(10_000)).toBe(true);
    store = platform.get(PresenceStore);
    worker = platform.get(PresenceWorker);
    registry = platform.get(ConnectionRegistry);
    ledger = platform.get(MembershipLedger);
  });

  afterEach(async () => {
    await ledger.close();
    await platform.close();
  });

  it('records a join under the lease and in its index, and a leave takes both back', async () => {
    const alice = connect('1');
    const { members } = await join(alice, 'room');
    expect(members.map((member) => member.userId)).toEqual(['1']);
    expect(alice.channels.get('room')?.workerId).toBe(worker.id);
    expect(registry.isUsed('room')).toBe(true);
    expect(await indexOf(worker.id)).toEqual(['room']);

    const membership = ledger.exit(alice, 'room');
    expect(membership).toBeDefined();
    await ledger.remove(alice, 'room', membership!);
    expect(await userIds('room')).toEqual([]);
    expect(registry.isUsed('room')).toBe(false);
    expect(await indexOf(worker.id)).toEqual([]);
  });

  it('keeps the channel indexed while another connection of the worker is in it', async () => {
    const alice = connect('1');
    const bob = connect('2');
    await join(alice, 'room');
    await join(bob, 'room');
    await ledger.removeAll(alice);
    registry.remove(alice.id);
    expect(await userIds('room')).toEqual(['2']);
    expect(await indexOf(worker.id)).toEqual(['room']);
  });

  it('records every membership again under a new id when Redis lost the lease', async () => {
    const alice = connect('1');
    const bob = connect('2');
    await join(alice, 'room');
    await join(bob, 'hall');
    const lapsed = worker.id;
    await raw.flushall();

    await waitFor(
      're-recorded room',
      async () => worker.id !== lapsed && (await userIds('room')).length === 1,
    );
    await waitFor('re-recorded hall', async () => (await userIds('hall')).length === 1);
    expect(alice.channels.get('room')?.workerId).toBe(worker.id);
    expect(bob.channels.get('hall')?.workerId).toBe(worker.id);
    expect((await indexOf(worker.id)).sort()).toEqual(['hall', 'room']);
  });

  it('refuses to record once closed, and leaves nothing of the worker in Redis', async () => {
    const alice = connect('1');
    await join(alice, 'room');
    await ledger.close();
    expect(await userIds('room')).toEqual([]);
    await expect(ledger.writableId(alice, 'room')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
