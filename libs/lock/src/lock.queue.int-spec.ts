import { LockModule, LockService } from '@lattice/lock';
import { RedisService } from '@lattice/redis';
import {
  RedisCluster,
  RedisServer,
  waitFor,
  startPlatform,
  type PlatformInstance,
} from '@lattice/testing';
import { LockWorker } from '../../../test/fixtures/lock/lock-worker.process';

const PREFIX = 'mq:';

interface Topology {
  env: Record<string, string>;
  /** ZCARD of a key, wherever it lives. */
  count(key: string): Promise<number>;
  dispose(): Promise<void>;
}

const topologies: [string, () => Promise<Topology>][] = [
  [
    'one Redis',
    async () => {
      const server = await RedisServer.start();
      const raw = server.client();
      return {
        env: { REDIS_URL: server.url },
        count: (key) => raw.zcard(key),
        dispose: async () => {
          raw.disconnect();
          await server.dispose();
        },
      };
    },
  ],
  [
    'a cluster of three masters',
    async () => {
      const cluster = await RedisCluster.start();
      const raw = cluster.client();
      return {
        env: cluster.env,
        count: (key) => raw.zcard(key),
        dispose: async () => {
          raw.disconnect();
          await cluster.dispose();
        },
      };
    },
  ],
];

/**
 * Waiting across processes: queue-worker.ts processes (separate Node
 * processes using @lattice/lock, as app instances would) wait for locks the
 * test holds. Their poll is ten minutes, so each grant within the test came
 * from a wake-up through Redis; the order of their tokens is the order of
 * their grants.
 */
describe.each(topologies)('lock waiters in several processes on %s', (_name, start) => {
  let topology: Topology;
  let platform: PlatformInstance;
  let redis: RedisService;
  let locks: LockService;
  /** Three processes serving requests; the last test kills the third. */
  let workers: LockWorker[];

  /** Sends the worker a request, and waits until it has queued. */
  const queue = async (w: LockWorker, queueKey: string, request: Record<string, unknown>) => {
    const before = await topology.count(`${PREFIX}${queueKey}`);
    w.send(JSON.stringify(request));
    await waitFor(`worker ${w.id} to queue`, async () => {
      return (await topology.count(`${PREFIX}${queueKey}`)) > before;
    });
  };

  const granted = async (w: LockWorker, resource: string) => {
    const event = await waitFor(
      `worker ${w.id} to hold ${resource}`,
      () => {
        return w.events.find((e) => e.event === 'granted' && e.resource === resource);
      },
      30_000,
    );
    return { id: w.id, token: BigInt(event.token as string), at: event.at as number };
  };

  beforeAll(async () => {
    topology = await start();
    const env = { ...topology.env, KEY_PREFIX: PREFIX };
    workers = ['1', '2', '3'].map((id) => LockWorker.startQueued(id, env));
    platform = await startPlatform({ env: env, imports: [LockModule] });
    redis = platform.get(RedisService);
    await redis.whenReady(10_000);
    locks = platform.get(LockService);
    await Promise.all(workers.map((w) => w.next('ready', 60_000)));
  });

  afterAll(async () => {
    await Promise.all((workers ?? []).map((w) => w.kill()));
    await platform?.close();
    await topology?.dispose();
  });

  it('grants a mutex to waiting processes in the order they queued, each woken at its turn', async () => {
    const holder = await locks.acquire('mutex', 30_000);
    const order = [workers[1], workers[0], workers[2]];
    for (const w of order) await queue(w, 'lock:{mutex}:queue', { resource: 'mutex' });
    await holder.release();
    const releasedAt = Date.now();
    const grants = await Promise.all(order.map((w) => granted(w, 'mutex')));
    grants.sort((a, b) => (a.token < b.token ? -1 : 1));
    expect(grants.map((g) => g.id)).toEqual(['2', '1', '3']);
    expect(grants[0].token).toBeGreaterThan(holder.token);
    // Reported, not asserted (a loaded machine decides the milliseconds): how soon the first was woken.
    process.stdout.write(
      `first waiter granted ${grants[0].at - releasedAt} ms after the release\n`,
    );
  });

  it('serves a waiting writer process before a reader process that came after it, and a semaphore in order', async () => {
    const reading = await locks.readWrite('doc').read.acquire(30_000);
    await queue(workers[0], 'rw:{doc}:queue', { resource: 'doc', kind: 'write' });
    await queue(workers[1], 'rw:{doc}:queue', { resource: 'doc', kind: 'read' });
    await reading.release();
    const [w, r] = await Promise.all([granted(workers[0], 'doc'), granted(workers[1], 'doc')]);
    expect(w.token).toBeGreaterThan(reading.token);
    expect(r.token).toBeGreaterThan(w.token);

    const permits = await Promise.all([1, 2].map(() => locks.semaphore('pool', 2).acquire(30_000)));
    const permit = { resource: 'pool', kind: 'permit', limit: 2 };
    for (const w of [workers[2], workers[0]]) await queue(w, 'sem:{pool}:queue', permit);
    await permits[0].release();
    const first = await granted(workers[2], 'pool');
    await permits[1].release();
    const second = await granted(workers[0], 'pool');
    expect(first.token).toBeGreaterThan(permits[1].token);
    expect(second.token).toBeGreaterThan(first.token);
  });

  it('moves past a waiting process that died, once its place runs out', async () => {
    // Both poll every 100 ms, so a place is kept 1.2 s after its last attempt.
    const request = { resource: 'orphaned', retryDelayMs: 100 };
    const holder = await locks.acquire('orphaned', 30_000);
    await queue(workers[2], 'lock:{orphaned}:queue', request);
    await queue(workers[0], 'lock:{orphaned}:queue', request);
    await workers[2].kill();
    await holder.release();
    const grant = await granted(workers[0], 'orphaned');
    expect(grant.token).toBeGreaterThan(holder.token);
    expect(await topology.count(`${PREFIX}lock:{orphaned}:queue`)).toBe(0);
  });
});
