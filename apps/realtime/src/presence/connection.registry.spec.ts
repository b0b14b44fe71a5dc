import type { Socket } from 'socket.io';
import { ConnectionRegistry } from './connection.registry';
import { RealtimeConnection } from './realtime.connection';

const connection = (socketId: string, sessionId: string) =>
  new RealtimeConnection({ id: socketId } as Socket, {
    userId: '1',
    login: 'ada',
    name: 'Ada',
    sessionId,
    token: 't',
  });

describe('ConnectionRegistry', () => {
  it('knows which channels this worker uses, by connection, until the last one leaves', () => {
    const registry = new ConnectionRegistry();
    const a = connection('a', 's1');
    const b = connection('b', 's1');
    registry.add(a);
    registry.add(b);
    registry.enter(a, 'lobby', { meta: null, workerId: 'w' });
    registry.enter(b, 'lobby', { meta: { x: 1 }, workerId: 'w' });
    registry.enter(b, 'games', { meta: null, workerId: 'w' });
    expect(registry.channels().sort()).toEqual(['games', 'lobby']);

    expect(registry.exit(a, 'lobby')).toEqual({ meta: null, workerId: 'w' });
    expect(registry.exit(a, 'lobby')).toBeUndefined();
    expect(registry.isUsed('lobby')).toBe(true);

    // A disconnected connection stops counting at once, and keeps its channels for the leaves to come.
    const removed = registry.remove('b');
    expect(removed).toBe(b);
    expect([...removed!.channels.keys()].sort()).toEqual(['games', 'lobby']);
    expect(registry.isUsed('lobby')).toBe(false);
    expect(registry.channels()).toEqual([]);
    expect(registry.remove('b')).toBeUndefined();
  });

  it('finds the connections of sessions, and one connection per session', () => {
    const registry = new ConnectionRegistry();
    const [a, b, c] = [connection('a', 's1'), connection('b', 's1'), connection('c', 's2')];
    for (const each of [a, b, c]) registry.add(each);
    expect(
      registry
        .ofSessions(['s1', 'nope'])
        .map((x) => x.id)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(
      registry
        .sessions()
        .map((x) => x.user.sessionId)
        .sort(),
    ).toEqual(['s1', 's2']);
    registry.remove('a');
    registry.remove('b');
    expect(registry.ofSessions(['s1'])).toEqual([]);
    expect(registry.size).toBe(1);
  });
});
