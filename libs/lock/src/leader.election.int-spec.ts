import { RedisServer, sleep, waitFor } from '@lattice/testing';
import type { Leadership } from './leader.election';
import { lockInstance, type LockInstance } from './lock-instance.fixture';

describe('LockService.lead', () => {
  let server: RedisServer;
  const instances: LockInstance[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    for (let i = 0; i < 3; i++) {
      instances.push(await lockInstance({ REDIS_URL: server.url }));
    }
  });

  afterAll(async () => {
    for (const instance of instances) await instance.close();
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
