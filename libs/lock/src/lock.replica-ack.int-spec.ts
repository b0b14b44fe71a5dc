import { RedisServer, sleep, waitFor } from '@lattice/testing';
import { LockExtendFailedError, LockNotAcquiredError } from './lock.errors';
import { lockInstance, type LockInstance } from './lock-instance.fixture';
import type { LockService } from './lock.service';

const PREFIX = 'ack:';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('LockService with replica acknowledgement', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let instance: LockInstance;
  let locks: LockService;
  let onReplica: ReturnType<RedisServer['client']>;

  beforeAll(async () => {
    master = await RedisServer.start();
    replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    onReplica = replica.client();
    await waitFor(
      'the replica in sync',
      async () => (await onReplica.info('replication')).includes('master_link_status:up'),
      10_000,
    );
    instance = await lockInstance({ REDIS_URL: master.url, KEY_PREFIX: PREFIX });
    ({ locks } = instance);
  });

  afterAll(async () => {
    if (replica?.pid) process.kill(replica.pid, 'SIGCONT');
    onReplica?.disconnect();
    await instance?.close();
    await replica?.dispose();
    await master?.dispose();
  });

  /** A replica that is up but does not answer: its acknowledgements stop. */
  async function withFrozenReplica(work: () => Promise<void>): Promise<void> {
    process.kill(replica.pid!, 'SIGSTOP');
    try {
      await work();
    } finally {
      process.kill(replica.pid!, 'SIGCONT');
    }
  }

  it('resolves once the replica has the lease, not before', async () => {
    let settled = false;
    let acquiring!: ReturnType<LockService['acquire']>;
    await withFrozenReplica(async () => {
      acquiring = locks.acquire('acked', 5_000, { replicaAckTimeoutMs: 5_000 });
      void acquiring.finally(() => (settled = true));
      await sleep(300);
      expect(settled).toBe(false);
    });
    const lock = await acquiring;
    expect(await onReplica.get(`${PREFIX}lock:{acked}`)).not.toBeNull();
    expect(await onReplica.get(`${PREFIX}lock:{acked}:fence`)).toBe(lock.token.toString());
    await lock.release();
  });

  it('gives the lease back and fails with `unacknowledged` when no replica confirms in time', async () => {
    await withFrozenReplica(async () => {
      const started = Date.now();
      const error = await rejection(
        locks.acquire('frozen', 5_000, { replicaAckTimeoutMs: 200, retryCount: 0 }),
      );
      expect(error).toBeInstanceOf(LockNotAcquiredError);
      expect(error).toMatchObject({
        code: 'LOCK_NOT_ACQUIRED',
        reason: 'unacknowledged',
        status: 503,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      // Nothing left held: a lock without acknowledgement takes the resource at once.
      const lock = await locks.acquire('frozen', 5_000, { retryCount: 0 });
      await lock.release();
    });
  });

  it('refuses an extension no replica confirmed, without losing the lease', async () => {
    const lock = await locks.acquire('extended', 5_000, { replicaAckTimeoutMs: 1_000 });
    await withFrozenReplica(async () => {
      const error = await rejection(lock.extend(5_000));
      expect(error).toBeInstanceOf(LockExtendFailedError);
      expect(error).toMatchObject({ reason: 'unacknowledged', status: 503 });
    });
    await lock.extend(5_000);
    expect(lock.isHeld).toBe(true);
    expect((await lock.release()).released).toBe(true);
  });

  it('is refused in quorum mode, where WAIT on one node would promise nothing', async () => {
    const { locks: quorum, close } = await lockInstance({
      REDIS_URL: master.url,
      // Three distinct addresses; no node is asked before the option is refused.
      LOCK_QUORUM_URLS: [master.url, replica.url, `redis://localhost:${master.port}`].join(','),
      KEY_PREFIX: PREFIX,
    });
    try {
      await expect(
        quorum.acquire('quorum', 5_000, { replicaAckTimeoutMs: 100 }),
      ).rejects.toBeInstanceOf(TypeError);
    } finally {
      await close();
    }
  });

  it('checks the timeout it is given', async () => {
    for (const replicaAckTimeoutMs of [0, -1, 1.5]) {
      await expect(locks.acquire('bad', 5_000, { replicaAckTimeoutMs })).rejects.toBeInstanceOf(
        RangeError,
      );
    }
  });
});
