import type { Server, Socket } from 'socket.io';
import type { ConfigService } from '@lattice/config';
import type { PresenceStore } from '@lattice/presence';
import { ConnectionRecovery, RECOVERY_MARKER_EVENT } from './connection.recovery';
import { ConnectionRegistry } from './connection.registry';
import { RealtimeConnection } from './realtime.connection';
import type { RecoveryRecord, RecoveryRepository } from './recovery.repository';

type Packet = { type: number; data: unknown[] };

/** A fake of the adapter methods the recovery hooks, delivering to every socket given. */
function fakeAdapter(sockets: { id: string }[]) {
  const delivered: { socket: string; data: unknown[] }[] = [];
  const adapter = {
    persistSession: (_session: unknown) => undefined,
    restoreSession: (_pid: string, _offset: string): Promise<unknown> => Promise.resolve(null),
    _encode: (packet: Packet) => packet,
    apply: (_options: unknown, callback: (socket: Socket) => void) => {
      for (const socket of sockets) callback(socket as Socket);
    },
    broadcast(packet: Packet) {
      const encoded = this._encode(packet);
      this.apply({}, (socket) => delivered.push({ socket: socket.id, data: [...encoded.data] }));
    },
  };
  return { adapter, delivered };
}

const event = (channel: string, offset: string): Packet => ({
  type: 2,
  data: ['channel:message', { channel, offset, data: offset }],
});

describe('ConnectionRecovery', () => {
  let saved: Map<string, RecoveryRecord>;
  let logs: Map<string, string[]>;
  let recovery: ConnectionRecovery;
  let fake: ReturnType<typeof fakeAdapter>;
  const socket = { id: 'sock', packet: jest.fn(), connected: true } as unknown as Socket;
  /** What was written to the socket itself (the marker, replayed events), in order. */
  const written = () =>
    (socket as unknown as { packet: jest.Mock }).packet.mock.calls.map(
      ([packet]) => (packet as { data: unknown[] }).data,
    );

  beforeEach(() => {
    saved = new Map();
    logs = new Map();
    const repository = {
      save: (pid: string, record: RecoveryRecord) => {
        saved.set(pid, record);
        return Promise.resolve();
      },
      take: (pid: string) => {
        const record = saved.get(pid) ?? null;
        saved.delete(pid);
        return Promise.resolve(record);
      },
    } as unknown as RecoveryRepository;
    // Every offset of a channel's log after `after`, or null for a channel without one.
    const store = {
      eventsSince: (channel: string, after: string) => {
        const log = logs.get(channel);
        if (!log) return Promise.resolve(null);
        return Promise.resolve(
          log
            .filter((offset) => offset > after)
            .map((offset) => ({
              event: 'channel:message',
              payload: JSON.stringify({ channel, offset }),
              offset,
              except: '',
            })),
        );
      },
    } as unknown as PresenceStore;
    const config = { get: () => ({ recoveryMs: 60_000 }) } as unknown as ConfigService;
    // The dropped socket as this worker knows it: user 7, in channels a and b.
    const registry = new ConnectionRegistry();
    const connection = new RealtimeConnection(socket, {
      userId: '7',
      login: 'seven',
      name: 'seven',
      sessionId: 's7',
      token: 't7',
    });
    registry.add(connection);
    registry.enter(connection, 'a', { meta: null, workerId: 'w' });
    registry.enter(connection, 'b', { meta: { x: 1 }, workerId: 'w' });
    recovery = new ConnectionRecovery(repository, store, registry, config);
    fake = fakeAdapter([socket]);
    const server = { opts: {}, of: () => ({ adapter: fake.adapter }) } as unknown as Server;
    recovery.attach(server);
    (socket as unknown as { packet: jest.Mock }).packet.mockClear();
  });

  const drop = () => fake.adapter.persistSession({ sid: 'sock', pid: 'secret' });

  it('marks each channel event with its position, and never sends one twice or out of order', () => {
    recovery.started(socket);
    recovery.mark(socket);
    expect(written()).toEqual([[RECOVERY_MARKER_EVENT, expect.stringMatching(/^~/)]]);
    fake.adapter.broadcast(event('a', '0000000000000005'));
    fake.adapter.broadcast(event('a', '0000000000000005'));
    fake.adapter.broadcast(event('a', '0000000000000004'));
    fake.adapter.broadcast({ type: 2, data: ['draw:winners', { id: 'x' }] });
    expect(fake.delivered.map((d) => d.data.at(-1))).toEqual(['a 0000000000000005', { id: 'x' }]);
  });

  it('tells how far the client got in every channel from the last position it reports', async () => {
    recovery.started(socket);
    recovery.joined('sock', 'a', '0000000000000010');
    recovery.joined('sock', 'b', '0000000000000100');
    for (const [channel, offset] of [
      ['a', '0000000000000011'],
      ['b', '0000000000000101'],
      ['a', '0000000000000012'],
      ['b', '0000000000000102'],
    ]) {
      fake.adapter.broadcast(event(channel, offset));
    }
    drop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(saved.get('secret')).toMatchObject({ sid: 'sock', userId: '7' });
    logs.set('a', ['0000000000000011', '0000000000000012', '0000000000000013']);
    logs.set('b', ['0000000000000101', '0000000000000102']);

    // The client got up to b 101: a 11 and b 101, not a 12 nor b 102.
    const session = (await fake.adapter.restoreSession('secret', 'b 0000000000000101')) as {
      sid: string;
      rooms: string[];
      data: { recovery: { userId: string } };
    };
    expect(session).toMatchObject({ sid: 'sock', rooms: ['channel:{a}', 'channel:{b}'] });
    expect(session.data.recovery.userId).toBe('7');
    // Taken once.
    expect(await fake.adapter.restoreSession('secret', 'b 0000000000000101')).toBeNull();

    // Live events wait for the replay, which sends what was missed in order, once.
    fake.adapter.broadcast(event('a', '0000000000000013'));
    expect(fake.delivered.filter((d) => d.data.at(-1) === 'a 0000000000000013')).toEqual([]);
    expect(await recovery.replay(socket, ['a', 'b'])).toBe(true);
    expect(written().map((data) => data[2])).toEqual([
      'a 0000000000000012',
      'a 0000000000000013',
      'b 0000000000000102',
    ]);
    fake.adapter.broadcast(event('a', '0000000000000013'));
    fake.adapter.broadcast(event('a', '0000000000000014'));
    expect(fake.delivered.at(-1)?.data.at(-1)).toBe('a 0000000000000014');
    expect(fake.delivered.filter((d) => d.data.at(-1) === 'a 0000000000000013')).toEqual([]);
  });

  it('gives another event ending in a string its own position, so the client still recovers from it', async () => {
    recovery.started(socket);
    recovery.joined('sock', 'a', '0000000000000010');
    recovery.joined('sock', 'b', '0000000000000100');
    fake.adapter.broadcast(event('a', '0000000000000011'));
    fake.adapter.broadcast({ type: 2, data: ['note', 'closing at five'] });
    fake.adapter.broadcast(event('b', '0000000000000101'));
    const note = fake.delivered[1].data;
    expect(note.slice(0, 2)).toEqual(['note', 'closing at five']);
    const position = note[2] as string;
    expect(position).toMatch(/^~/);
    drop();
    await new Promise((resolve) => setImmediate(resolve));
    logs.set('a', ['0000000000000011', '0000000000000012']);
    logs.set('b', ['0000000000000101']);

    // The client got the note (a 11 before it), not b 101.
    expect(await fake.adapter.restoreSession('secret', position)).toMatchObject({ sid: 'sock' });
    expect(await recovery.replay(socket, ['a', 'b'])).toBe(true);
    expect(written().map((data) => data[2])).toEqual(['a 0000000000000012', 'b 0000000000000101']);
  });

  it('recovers nothing from an unknown position, or when a channel’s log has a gap', async () => {
    recovery.started(socket);
    recovery.joined('sock', 'a', '0000000000000010');
    recovery.joined('sock', 'b', '0000000000000100');
    const marker = written().length; // nothing emitted yet
    expect(marker).toBe(0);
    drop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await fake.adapter.restoreSession('secret', 'a 0000000000000099')).toBeNull();

    recovery.started(socket);
    recovery.joined('sock', 'a', '0000000000000010');
    recovery.joined('sock', 'b', '0000000000000100');
    recovery.mark(socket);
    const token = written()[0][1] as string;
    drop();
    await new Promise((resolve) => setImmediate(resolve));
    logs.set('a', []); // b has no log: its events are gone
    expect(await fake.adapter.restoreSession('secret', token)).toBeNull();
  });
  it('remembers the last 500 events a busy socket was sent, and how far it got before them', async () => {
    const offset = (n: number) => String(n).padStart(16, '0');
    recovery.started(socket);
    recovery.joined('sock', 'a', offset(0));
    recovery.joined('sock', 'b', offset(0));
    for (let n = 1; n <= 1200; n++) fake.adapter.broadcast(event('a', offset(n)));
    drop();
    await new Promise((resolve) => setImmediate(resolve));
    const record = saved.get('secret')!;
    expect(record.sent.map(([, sent]) => sent)).toEqual(
      Array.from({ length: 500 }, (_, i) => offset(701 + i)),
    );
    expect(record.channels.find(({ channel }) => channel === 'a')?.floor).toBe(offset(700));
    logs.set(
      'a',
      Array.from({ length: 1300 }, (_, i) => offset(i + 1)),
    );
    logs.set('b', []);
    // A position older than the last 500 cannot be placed: no recovery.
    expect(await fake.adapter.restoreSession('secret', `a ${offset(650)}`)).toBeNull();
    saved.set('secret', record);
    expect(await fake.adapter.restoreSession('secret', `a ${offset(1100)}`)).not.toBeNull();
    expect(await recovery.replay(socket, ['a', 'b'])).toBe(true);
    const replayed = written().map((data) => data[2] as string);
    expect(replayed).toEqual(Array.from({ length: 200 }, (_, i) => `a ${offset(1101 + i)}`));
  });
});
