import type { Socket } from 'socket.io';
import { RealtimeConnection } from './realtime.connection';

describe('RealtimeConnection', () => {
  const user = { userId: '1', login: 'ada', name: 'Ada', sessionId: 's', token: 't' };

  it('runs what a connection asks for in order, whatever fails or takes longer', async () => {
    const connection = new RealtimeConnection({ id: 'socket-1' } as Socket, user);
    const done: string[] = [];
    const slow = connection.serial(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done.push('slow');
    });
    const failing = connection.serial(async () => {
      done.push('failing');
      throw new Error('no');
    });
    const fast = connection.serial(async () => {
      done.push('fast');
      return 'ok';
    });
    await expect(slow).resolves.toBeUndefined();
    await expect(failing).rejects.toThrow('no');
    await expect(fast).resolves.toBe('ok');
    expect(done).toEqual(['slow', 'failing', 'fast']);
  });

  it('describes itself in a channel as presence records it', () => {
    const connection = new RealtimeConnection({ id: 'socket-2' } as Socket, user);
    expect(connection.in('lobby', 'worker-a')).toEqual({
      channel: 'lobby',
      connectionId: 'socket-2',
      workerId: 'worker-a',
      userId: '1',
      login: 'ada',
      name: 'Ada',
    });
  });
});
