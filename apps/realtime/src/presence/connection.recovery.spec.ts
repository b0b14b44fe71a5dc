import type { Server, Socket } from 'socket.io';
import type { ConfigService } from '@lattice/config';
import { roomOf, type PresenceStore } from '@lattice/presence';
import { ConnectionRecovery, RECOVERY_POSITION_EVENT } from './connection.recovery';
import { ConnectionRegistry } from './connection.registry';
import { ConnectionRestorer } from './connection.restorer';
import { PresenceBroadcaster } from './presence.broadcaster';
import { RealtimeConnection } from './realtime.connection';
import { RecoveryRecorder } from './recovery.recorder';
import type { RecoveryRecord, RecoveryRepository } from './recovery.repository';

type Packet = { type: number; data: unknown[] };

/** A socket that records what its client receives, in order: broadcasts and packets of its own. */
function fakeSocket(id: string, pid: string) {
  const received: unknown[][] = [];
  const socket = {
    id,
    pid,
    connected: true,
    client: {
      writeToEngine: (packets: string[]) => received.push(JSON.parse(packets[0].slice(1))),
    },
    packet: (packet: Packet) => received.push(packet.data),
  };
  return { socket: socket as unknown as Socket, received };
}

/**
 * The adapter methods the recovery hooks, as Socket.IO's adapter runs them for
 * a broadcast: a channel's event is dropped when no socket here is in its room,
 * and a socket not connected yet (its handshake running) is not applied to.
 */
function fakeAdapter(sockets: Socket[]) {
  const adapter = {
    /** socket id → its rooms. */
    rooms: new Map<string, Set<string>>(),
    persistSession: (_session: { sid: string; pid: string }) => undefined,
    restoreSession: (_pid: string, _offset: string): Promise<unknown> => Promise.resolve(null),
    _encode: (packet: Packet, _options: object): unknown[] => [`2${JSON.stringify(packet.data)}`],
    apply: (_options: unknown, callback: (socket: Socket) => void) => {
      for (const socket of sockets) if (socket.connected) callback(socket);
    },
    addAll(id: string, rooms: Set<string>) {
      this.rooms.set(id, new Set([...(this.rooms.get(id) ?? []), ...rooms]));
    },
    delAll(id: string) {
      this.rooms.delete(id);
    },
    broadcast(packet: Packet) {
      const { channel } = (packet.data[1] ?? {}) as { channel?: unknown };
      const heard = [...this.rooms.values()].some((rooms) => rooms.has(roomOf(String(channel))));
      if (typeof channel === 'string' && !heard) return;
      const options = {};
      const encoded = this._encode(packet, options);
      this.apply({}, (socket) =>
        (
          socket as unknown as { client: { writeToEngine(p: unknown[], o: object): void } }
        ).client.writeToEngine(encoded, options),
      );
    },
  };
  return adapter;
}

const offset = (n: number) => String(n).padStart(16, '0');
const message = (channel: string, n: number): Packet => ({
  type: 2,
  data: ['channel:message', { channel, offset: offset(n) }],
});
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ConnectionRecovery', () => {
  let records: Map<string, RecoveryRecord>;
  let failing: boolean;
  /** Runs as a record is written (once). */
  let whileSaving: (() => void) | undefined;
  let logs: Map<string, number[]>;
  /** channel → how many times its log was read. */
  let reads: Map<string, number>;
  let registry: ConnectionRegistry;
  let recovery: ConnectionRecovery;
  /** An instance's recovery, on the same Redis. */
  let build: (registry: ConnectionRegistry) => ConnectionRecovery;
  let adapter: ReturnType<typeof fakeAdapter>;
  let client: ReturnType<typeof fakeSocket>;
  let connection: RealtimeConnection;

  beforeEach(() => {
    records = new Map();
    failing = false;
    whileSaving = undefined;
    logs = new Map();
    reads = new Map();
    const repository = {
      save: (pid: string, record: RecoveryRecord) => {
        whileSaving?.();
        if (failing) return Promise.reject(new Error('down'));
        records.set(pid, structuredClone(record));
        return Promise.resolve();
      },
      touch: () => Promise.resolve(),
      remove: (pid: string) => Promise.resolve(records.delete(pid)),
      take: (pid: string) => {
        const record = records.get(pid) ?? null;
        records.delete(pid);
        return Promise.resolve(record);
      },
    } as unknown as RecoveryRepository;
    // A channel's recovery log: its events' offsets (null for a channel without one).
    const store = {
      eventsSince: (channel: string, after: string) => {
        reads.set(channel, (reads.get(channel) ?? 0) + 1);
        const log = logs.get(channel);
        if (!log) return Promise.resolve(null);
        return Promise.resolve(
          log
            .filter((n) => offset(n) > after)
            .map((n) => ({
              event: 'channel:message',
              payload: JSON.stringify({ channel, offset: offset(n) }),
              offset: offset(n),
              except: '',
            })),
        );
      },
    } as unknown as PresenceStore;
    const config = { get: () => ({ recoveryMs: 60_000 }) } as unknown as ConfigService;
    registry = new ConnectionRegistry();
    client = fakeSocket('sock', 'secret');
    connection = new RealtimeConnection(client.socket, {
      userId: '7',
      login: 'seven',
      name: 'seven',
      sessionId: 's7',
      token: 't7',
    });
    registry.add(connection);
    build = (registry) => {
      const recorder = new RecoveryRecorder(repository, config);
      const broadcaster = new PresenceBroadcaster();
      const restorer = new ConnectionRestorer(repository, recorder, store, registry, broadcaster);
      return new ConnectionRecovery(recorder, registry, restorer);
    };
    recovery = build(registry);
    adapter = fakeAdapter([client.socket]);
    recovery.attach({ opts: {}, of: () => ({ adapter }) } as unknown as Server);
    recovery.started(client.socket);
  });

  afterEach(() => recovery.onModuleDestroy());

  const join = async (channel: string, at: number, meta: Record<string, unknown> | null = null) => {
    adapter.addAll('sock', new Set([roomOf(channel)]));
    await recovery.join(connection, channel, () => {
      registry.enter(connection, channel, { meta, workerId: 'w' });
      return Promise.resolve({ offset: offset(at) });
    });
  };
  /** The last string argument the client received: what Socket.IO's client reports. */
  const position = () => client.received.at(-1)?.at(-1) as string;
  /** The client comes back (to this or another instance) with its private id and position. */
  const comeBack = async (reported = position()) => {
    // Its disconnection took it out of its rooms.
    (client.socket as { connected: boolean }).connected = false;
    adapter.delAll('sock');
    client.received.length = 0;
    return (await adapter.restoreSession('secret', reported)) as {
      sid: string;
      rooms: string[];
      data: { recovery: { userId: string; channels: unknown[] } };
    } | null;
  };

  it('gives a socket in one channel each event’s own position, never one event twice or out of order', async () => {
    await join('a', 4);
    expect(client.received).toEqual([[RECOVERY_POSITION_EVENT, `~ 0:${offset(4)}`]]);
    expect(records.get('secret')).toEqual({
      sid: 'sock',
      userId: '7',
      channels: [{ channel: 'a', id: 0, meta: null }],
    });
    for (const n of [5, 5, 3, 6]) adapter.broadcast(message('a', n));
    adapter.broadcast({ type: 2, data: ['draw:winners', { id: 'x' }] });
    expect(client.received.slice(1)).toEqual([
      ['channel:message', { channel: 'a', offset: offset(5) }, `a ${offset(5)}`],
      ['channel:message', { channel: 'a', offset: offset(6) }, `a ${offset(6)}`],
      ['draw:winners', { id: 'x' }],
    ]);
  });

  it('gives a socket in several channels its own position, naming every channel', async () => {
    await join('a', 10);
    await join('b', 100, { x: 1 });
    expect(position()).toBe(`~ 0:${offset(10)} 1:${offset(100)}`);
    expect(records.get('secret')?.channels).toEqual([
      { channel: 'a', id: 0, meta: null },
      { channel: 'b', id: 1, meta: { x: 1 } },
    ]);
    adapter.broadcast(message('a', 11));
    expect(client.received.at(-1)).toEqual([
      'channel:message',
      { channel: 'a', offset: offset(11) },
      `~ 0:${offset(11)} 1:${offset(100)}`,
    ]);
    // Another event ending in a string gets the position too, so the client keeps its own.
    adapter.broadcast({ type: 2, data: ['note', 'closing at five'] });
    expect(client.received.at(-1)).toEqual([
      'note',
      'closing at five',
      `~ 0:${offset(11)} 1:${offset(100)}`,
    ]);
    await recovery.left(connection, 'a');
    registry.exit(connection, 'a');
    expect(position()).toBe(`~ 1:${offset(100)}`);
    expect(records.get('secret')?.channels).toEqual([{ channel: 'b', id: 1, meta: { x: 1 } }]);
  });

  it('writes a join’s record beside its presence script, and again as it stands when the script fails', async () => {
    await join('a', 10, { y: 1 });
    const failingJoin = (channel: string, meta: Record<string, unknown>) => {
      let fail!: () => void;
      const joining = recovery.join(connection, channel, async () => {
        const before = connection.channels.get(channel);
        registry.enter(connection, channel, { meta, workerId: 'w' });
        await new Promise<void>((resolve) => (fail = resolve));
        // As MembershipLedger.enter does when Redis refuses the join.
        if (before) registry.enter(connection, channel, before);
        else registry.exit(connection, channel);
        throw new Error('script failed');
      });
      return { joining, fail: () => fail() };
    };
    const b = failingJoin('b', { z: 1 });
    await flush();
    // In Redis while the script runs, so before the acknowledgement.
    expect(records.get('secret')?.channels).toEqual([
      { channel: 'a', id: 0, meta: { y: 1 } },
      { channel: 'b', id: 1, meta: { z: 1 } },
    ]);
    b.fail();
    await expect(b.joining).rejects.toThrow('script failed');
    expect(records.get('secret')?.channels).toEqual([{ channel: 'a', id: 0, meta: { y: 1 } }]);
    expect(position()).toBe(`~ 0:${offset(10)}`);
    // A join again with another meta that fails leaves the meta the socket has.
    const a = failingJoin('a', { y: 2 });
    await flush();
    expect(records.get('secret')?.channels).toEqual([{ channel: 'a', id: 0, meta: { y: 2 } }]);
    a.fail();
    await expect(a.joining).rejects.toThrow('script failed');
    expect(records.get('secret')?.channels).toEqual([{ channel: 'a', id: 0, meta: { y: 1 } }]);
    await join('b', 60);
    expect(position()).toBe(`~ 0:${offset(10)} 2:${offset(60)}`);
    expect(records.get('secret')?.channels).toEqual([
      { channel: 'a', id: 0, meta: { y: 1 } },
      { channel: 'b', id: 2, meta: null },
    ]);
  });

  it('recovers from the last position the client reports, with or without the drop seen (a killed instance)', async () => {
    await join('a', 10);
    await join('b', 100, { x: 1 });
    adapter.broadcast(message('a', 11));
    adapter.broadcast(message('b', 101));
    const reported = position(); // a 11, b 101: what the client has
    adapter.broadcast(message('a', 12)); // lost on the way
    logs.set('a', [11, 12, 13]);
    logs.set('b', [101, 102]);

    // The instance never saw the drop: nothing was kept at it, the record is the join's.
    const elsewhere = build(new ConnectionRegistry());
    const other = fakeAdapter([client.socket]);
    elsewhere.attach({ opts: {}, of: () => ({ adapter: other }) } as unknown as Server);
    client.received.length = 0;
    const session = (await other.restoreSession('secret', reported)) as {
      sid: string;
      rooms: string[];
      data: { recovery: { userId: string; channels: unknown[] } };
    };
    expect(session).toMatchObject({ sid: 'sock', data: { recovery: { userId: '7' } } });
    expect(session.data.recovery.channels).toEqual([
      { channel: 'a', meta: null },
      { channel: 'b', meta: { x: 1 } },
    ]);
    // Kept again by the instance it came back to.
    expect(records.get('secret')).toBeDefined();

    // Live events wait for the replay, which sends what was missed in order, once.
    other.broadcast(message('a', 13));
    expect(client.received).toEqual([]);
    elsewhere.resumed(client.socket);
    expect(await elsewhere.replay(client.socket, ['a', 'b'])).toBe(true);
    expect(client.received.map((data) => data.at(-1))).toEqual([
      `~ 0:${offset(11)} 1:${offset(101)}`,
      `~ 0:${offset(12)} 1:${offset(101)}`,
      `~ 0:${offset(13)} 1:${offset(101)}`,
      `~ 0:${offset(13)} 1:${offset(102)}`,
    ]);
    other.broadcast(message('a', 13));
    other.broadcast(message('a', 14));
    expect(client.received.at(-1)?.at(-1)).toBe(`~ 0:${offset(14)} 1:${offset(102)}`);
    expect(client.received).toHaveLength(5);
    // Each log read once: by the restore, whose read the replay sent.
    expect(Object.fromEntries(reads)).toEqual({ a: 1, b: 1 });
    elsewhere.onModuleDestroy();
  });

  it('replays an event published after the restore read the logs, before the socket connected', async () => {
    await join('a', 10);
    adapter.broadcast(message('a', 11));
    logs.set('a', [11, 12]);
    // Published after the read, as the restore keeps the record: before Socket.IO puts the socket in its rooms.
    whileSaving = () => {
      whileSaving = undefined;
      logs.set('a', [11, 12, 13]);
      adapter.broadcast(message('a', 13));
    };
    const session = await comeBack();
    expect(session).toMatchObject({ sid: 'sock', rooms: [roomOf('a')] });
    adapter.addAll('sock', new Set(session?.rooms)); // as Socket.IO's Socket does
    expect(client.received).toEqual([]);
    (client.socket as { connected: boolean }).connected = true;
    recovery.resumed(client.socket);
    expect(await recovery.replay(client.socket, ['a'])).toBe(true);
    expect(client.received.slice(1).map((data) => data.at(-1))).toEqual([
      `~ 0:${offset(12)}`,
      `~ 0:${offset(13)}`,
    ]);
    expect(reads.get('a')).toBe(2);
    adapter.broadcast(message('a', 13));
    adapter.broadcast(message('a', 14));
    expect(client.received.slice(3)).toEqual([
      ['channel:message', { channel: 'a', offset: offset(14) }, `a ${offset(14)}`],
    ]);
  });

  it('recovers nothing when the position and the record disagree, or a log has a gap', async () => {
    await join('a', 10);
    await join('b', 100);
    adapter.broadcast(message('a', 11));
    logs.set('a', [11, 12]);
    logs.set('b', [101]);
    const kept = structuredClone(records.get('secret') as RecoveryRecord);
    const again = async (reported: string) => {
      records.set('secret', structuredClone(kept));
      return comeBack(reported);
    };
    expect(await again(`a ${offset(11)}`)).toBeNull(); // the client knew of b
    expect(adapter.rooms.has('sock')).toBe(false);
    expect(await again(`~ 0:${offset(11)} 2:${offset(100)}`)).toBeNull(); // no channel 2
    expect(await again('not a position')).toBeNull();
    logs.delete('b'); // b's events are gone
    expect(await again(`~ 0:${offset(11)} 1:${offset(100)}`)).toBeNull();
    expect(adapter.rooms.has('sock')).toBe(false); // put in its rooms to read the logs, then out
    logs.set('b', [101]);
    expect(await again(`~ 0:${offset(11)} 1:${offset(100)}`)).toMatchObject({ sid: 'sock' });
    // Kept again for the recovered socket's next drop, or its instance's death.
    expect(records.get('secret')).toEqual(kept);
  });

  it('does not recover a socket still connected here (its drop not seen yet), and keeps its record', async () => {
    await join('a', 10);
    logs.set('a', [10]);
    const kept = structuredClone(records.get('secret'));
    expect(await adapter.restoreSession('secret', position())).toBeNull();
    expect(records.get('secret')).toEqual(kept);
  });

  it('writes a record that could not be written at the drop, and keeps the dropped socket for its window', async () => {
    failing = true;
    await join('a', 10, { y: 2 });
    expect(records.has('secret')).toBe(false);
    expect(position()).toBe(`~ 0:${offset(10)}`);
    failing = false;
    adapter.persistSession({ sid: 'sock', pid: 'secret' });
    await recovery.drain();
    expect(records.get('secret')?.channels).toEqual([{ channel: 'a', id: 0, meta: { y: 2 } }]);
    expect(recovery.wasPersisted('sock')).toBe(true);
    logs.set('a', [10]);
    await flush();
    expect(await comeBack()).toMatchObject({ sid: 'sock' });
  });
});
