import { RedisServer } from './redis-server';

/** The harness itself: a private server is ours, never another process's on the same port. */
describe('RedisServer (test harness)', () => {
  it('refuses at once a port another redis-server already holds, instead of using that server', async () => {
    const holder = await RedisServer.start();
    // A second server on the holder's port, as when a free port is taken before it is bound.
    const late = new (RedisServer as unknown as new (port: number, args: string[]) => RedisServer)(
      holder.port,
      [],
    );
    try {
      const started = Date.now();
      await expect(late.restart()).rejects.toThrow(/exited before answering on port/);
      expect(Date.now() - started).toBeLessThan(5_000);
      // The holder is untouched and still answers.
      const raw = holder.client();
      expect(await raw.ping()).toBe('PONG');
      raw.disconnect();
    } finally {
      await late.dispose();
      await holder.dispose();
    }
  });
});
