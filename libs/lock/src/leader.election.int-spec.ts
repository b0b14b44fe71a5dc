import { ConfigService, loadConfig } from '@lattice/config';
import { RedisService } from '@lattice/redis';
import { RedisServer, sleep, waitFor } from '@lattice/testing';
import type { Leadership } from './leader.election';
import { LockService } from './lock.service';

describe('LockService.lead', () => {
  let server: RedisServer;
  const instances: { redis: RedisService; locks: LockService }[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    for (let i = 0; i < 3; i++) {
      const config = new ConfigService(loadConfig('gateway', { REDIS_URL: server.url }));
      const redis = new RedisService(config);
      redis.onModuleInit();
      await redis.whenReady(5000);
      instances.push({ redis, locks: new LockService(redis, config) });
    }
  });

  afterAll(async () => {
    for (const { redis, locks } of instances) {
      await locks.beforeApplicationShutdown();
      await redis.onApplicationShutdown();
    }
    await server?.dispose();
  });

  it('runs a periodic job on one instance at a time, with a larger token each term', async () => {
    const ticks: { instance: number; token: bigint; at: number }[] = [];
    const leaderships: Leadership[] = instances.map(({ locks }, instance) =>
      locks.lead(
        'cleanup',
        600,
        async (_signal, token) => void ticks.push({ instance, token, at: Date.now() }),
        { everyMs: 50 },
      ),
    );
    await waitFor('ten ticks', () => ticks.length >= 10);
    expect(leaderships.filter((l) => l.isLeader)).toHaveLength(1);
    const first = leaderships.findIndex((l) => l.isLeader);
    expect(new Set(ticks.map((t) => t.instance))).toEqual(new Set([first]));
    const firstToken = leaderships[first].token!;

    // Stepping down hands the lease over at once, not a TTL later.
    await leaderships[first].stop();
    const handedOver = ticks.length;
    await waitFor('another leader', () => ticks.slice(handedOver).length > 0, 5000);
    const second = ticks[ticks.length - 1].instance;
    expect(second).not.toBe(first);
    expect(leaderships[second].token).toBeGreaterThan(firstToken);
    expect(leaderships.filter((l) => l.isLeader)).toHaveLength(1);
    for (const leadership of leaderships) await leadership.stop();
    const stoppedAt = ticks.length;
    await sleep(200);
    expect(ticks.length).toBe(stoppedAt);
  });

  it('runs a long job once per term and aborts it when the leader steps down', async () => {
    let reason: unknown;
    const leadership = instances[0].locks.lead('consumer', 600, async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      reason = signal.reason;
    });
    await waitFor('leadership', () => leadership.isLeader);
    await sleep(700);
    // Renewed past its TTL while the job runs.
    expect(leadership.isLeader).toBe(true);
    await leadership.stop();
    expect(reason).toMatchObject({ name: 'AbortError' });
    expect(leadership.isLeader).toBe(false);
  });
});
