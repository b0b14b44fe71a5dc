import { RedisServer, sleep } from '@lattice/testing';
import { currentLock } from './lock.context';
import { lockInstance, type LockInstance } from './lock-instance.fixture';

describe('LockService.runOnce', () => {
  let server: RedisServer;
  const instances: LockInstance[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    for (let i = 0; i < 4; i++) {
      instances.push(await lockInstance({ REDIS_URL: server.url }));
    }
  });

  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await server?.dispose();
  });

  it('runs the task on one of the callers; every caller resolves once it finished', async () => {
    let runs = 0;
    let finished = false;
    const seenFinished: boolean[] = [];
    await Promise.all(
      instances.map(({ locks }) =>
        locks
          .runOnce('warm-cache', async (signal, token) => {
            runs++;
            expect(signal.aborted).toBe(false);
            expect(currentLock()?.token).toBe(token);
            await sleep(300);
            finished = true;
          })
          .then(() => seenFinished.push(finished)),
      ),
    );
    expect(runs).toBe(1);
    expect(seenFinished).toEqual([true, true, true, true]);
  });

  it('skips the task for a caller that comes while the finished run still counts', async () => {
    let runs = 0;
    const task = async () => void runs++;
    await instances[0].locks.runOnce('seed', task, { doneTtlMs: 400 });
    await instances[1].locks.runOnce('seed', task, { doneTtlMs: 400 });
    expect(runs).toBe(1);
    await sleep(500);
    await instances[2].locks.runOnce('seed', task, { doneTtlMs: 400 });
    expect(runs).toBe(2);
  });

  it('lets a waiting caller run the task when the runner’s task fails', async () => {
    let runs = 0;
    const task = async () => {
      runs++;
      await sleep(100);
      if (runs === 1) throw new Error('migration failed');
    };
    const outcomes = await Promise.allSettled(
      instances.map(({ locks }) => locks.runOnce('migrate', task, { pollMs: 20 })),
    );
    expect(runs).toBe(2);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({
      message: 'migration failed',
    });
  });

  it('stops waiting when the caller aborts, and ends waits at shutdown', async () => {
    const blocker = instances[0].locks.runOnce('slow', () => sleep(1000));
    await sleep(50);
    const controller = new AbortController();
    const waiting = instances[1].locks.runOnce('slow', async () => undefined, {
      signal: controller.signal,
    });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'LOCK_NOT_ACQUIRED', reason: 'aborted' });

    const atShutdown = instances[3].locks.runOnce('slow', async () => undefined);
    await sleep(50);
    await instances[3].close();
    await expect(atShutdown).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'aborted',
    });
    await blocker;
  });
});
