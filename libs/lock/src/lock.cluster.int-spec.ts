import type { RedisService } from '@lattice/redis';
import { RedisCluster, waitFor } from '@lattice/testing';
import { lockInstance, type LockInstance } from './lock-instance.fixture';
import type { LockService } from './lock.service';

/**
 * Redis Cluster refuses a script whose keys lie in different slots
 * (CROSSSLOT), so a cluster of three masters shows that the keys a script
 * touches share a hash tag and that a lock on resources of different slots,
 * held by different masters, still works.
 */
describe('LockService on Redis Cluster', () => {
  let cluster: RedisCluster;
  let instance: LockInstance;
  let redis: RedisService;
  let locks: LockService;
  let raw: ReturnType<RedisCluster['client']>;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    raw = cluster.client();
    instance = await lockInstance({ ...cluster.env, KEY_PREFIX: 'c:' });
    ({ redis, locks } = instance);
  });

  afterAll(async () => {
    raw?.disconnect();
    await instance?.close();
    await cluster?.dispose();
  });

  it('locks, extends and releases a resource', async () => {
    expect(redis.isCluster).toBe(true);
    const lock = await locks.acquire('invoice:7', 5000);
    await lock.extend(5000);
    expect(await raw.get('c:lock:{invoice:7}:fence')).toBe(lock.token.toString());
    expect(await lock.release()).toEqual({ released: true });
    const next = await locks.acquire('invoice:7', 5000);
    expect(next.token).toBeGreaterThan(lock.token);
    await next.release();
  });

  it('takes resources of different slots together, all or none, with one token above each', async () => {
    const resources = ['account:1', 'account:2', 'account:3'];
    const slots = await Promise.all(
      resources.map((r) => raw.call('CLUSTER', 'KEYSLOT', `c:lock:{${r}}`)),
    );
    expect(new Set(slots).size).toBe(3);
    const masters = await Promise.all(resources.map((r) => cluster.masterOf(`c:lock:{${r}}`)));
    expect(new Set(masters).size).toBeGreaterThan(1);

    const earlier = await locks.acquire('account:2', 5000);
    await expect(locks.acquire(resources, 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
    });
    // Nothing taken before the busy resource is left behind.
    expect(await raw.exists('c:lock:{account:1}')).toBe(0);
    await earlier.release();

    const all = await locks.acquire(resources, 5000);
    expect(all.token).toBeGreaterThan(earlier.token);
    for (const r of resources) {
      expect(await raw.get(`c:lock:{${r}}:fence`)).toBe(all.token.toString());
    }
    await all.extend(5000);
    expect(await all.release()).toEqual({ released: true });
    for (const r of resources) {
      const later = await locks.acquire(r, 5000);
      expect(later.token).toBeGreaterThan(all.token);
      await later.release();
    }
  });

  it('runs `using`, run-once tasks and leaders there too', async () => {
    expect(await locks.using(['a', 'b'], 1000, async (_signal, token) => token)).toBeGreaterThan(
      0n,
    );
    let runs = 0;
    await Promise.all([1, 2].map(() => locks.runOnce('cluster-task', async () => void runs++)));
    expect(runs).toBe(1);
    const leadership = locks.lead('cluster-leader', 1000, async () => undefined, { everyMs: 100 });
    await waitFor('leadership', () => leadership.isLeader);
    await leadership.stop();
    expect(leadership.isLeader).toBe(false);
  });

  it('queues waiters and wakes them in order through the sharded subscriber', async () => {
    // Waiters poll every ten minutes: a grant within the test came from a wake-up.
    const slow = { retryDelayMs: 600_000, retryJitterMs: 0 };
    const queued = (key: string) => raw.zcard(`c:${key}:queue`);
    const holder = await locks.acquire('queued:1', 30_000);
    const order: number[] = [];
    const waits = [];
    for (const i of [1, 2, 3]) {
      waits.push(locks.acquire('queued:1', 5000, slow).then((l) => (order.push(i), l.release())));
      await waitFor(`waiter ${i} to queue`, async () => (await queued('lock:{queued:1}')) === i);
    }
    await holder.release();
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);

    // Semaphores and read-write locks: their keys share the resource's hash tag too.
    const permit = await locks.semaphore('queued:2', 1).acquire(30_000);
    const next = locks.semaphore('queued:2', 1).acquire(5000, slow);
    await waitFor('the permit waiter to queue', async () => (await queued('sem:{queued:2}')) === 1);
    await permit.release();
    expect((await next).token).toBeGreaterThan(permit.token);
    await (await next).release();
    const reader = await locks.readWrite('queued:3').read.acquire(30_000);
    const writer = locks.readWrite('queued:3').write.acquire(5000, slow);
    await waitFor('the writer to queue', async () => (await queued('rw:{queued:3}')) === 1);
    await reader.release();
    await (await writer).release();
  });
});
