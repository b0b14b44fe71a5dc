import { RedisServer, waitFor } from '@lattice/testing';
import type { Lock } from './lock.handle';
import { lockInstance, type LockInstance } from './lock-instance.fixture';

const PREFIX = 'w1:';
/** A poll so slow that a waiter granted within the test was woken, not polling. */
const NEVER_POLL = { retryDelayMs: 600_000, retryJitterMs: 0 };

type Instance = LockInstance;
const instance = (url: string): Promise<Instance> =>
  lockInstance({ REDIS_URL: url, KEY_PREFIX: PREFIX });

/**
 * Waiting without polling: a waiter queues in Redis (`lock:{r}:queue`) and is
 * woken through the shared subscriber when its turn comes. Waiters here poll
 * every ten minutes, so any grant within the test came from a wake-up.
 */
describe('waiting for a lock on one Redis', () => {
  let server: RedisServer;
  let a: Instance;
  let b: Instance;
  let raw: ReturnType<RedisServer['client']>;

  beforeAll(async () => {
    server = await RedisServer.start();
    [a, b] = await Promise.all([instance(server.url), instance(server.url)]);
    raw = server.client();
  });

  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([a?.close(), b?.close()]);
    await server?.dispose();
  });

  const queued = (resource: string) => raw.zrange(`${PREFIX}lock:{${resource}}:queue`, '0', '-1');

  it('wakes waiters of two instances in the order they queued, each once the lock is free', async () => {
    const holder = await a.locks.acquire('q1', 30_000);
    const order: string[] = [];
    const tokens: bigint[] = [];
    const waiters: Promise<void>[] = [];
    for (const [name, locks] of [
      ['b1', b.locks],
      ['a1', a.locks],
      ['b2', b.locks],
      ['a2', a.locks],
    ] as const) {
      const before = (await queued('q1')).length;
      waiters.push(
        locks.acquire('q1', 30_000, NEVER_POLL).then(async (lock) => {
          order.push(name);
          tokens.push(lock.token);
          await lock.release();
        }),
      );
      await waitFor(`${name} to queue`, async () => (await queued('q1')).length > before);
    }
    await holder.release();
    await Promise.all(waiters);
    expect(order).toEqual(['b1', 'a1', 'b2', 'a2']);
    expect(tokens[0]).toBeGreaterThan(holder.token);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    expect(await queued('q1')).toEqual([]);
  });

  it('keeps a newcomer behind a queued waiter, and drops the place of a waiter that stopped asking', async () => {
    // A waiter that queued and then went silent (its process died): its place lasts until its deadline.
    const now = Date.now();
    await raw.zadd(`${PREFIX}lock:{q2}:queue`, now * 1000, 'gone');
    await raw.zadd(`${PREFIX}lock:{q2}:queue:until`, now + 400, 'gone');
    await expect(a.locks.acquire('q2', 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
    });
    // A waiting caller gets it once the silent waiter's place runs out.
    const lock = await a.locks.acquire('q2', 5000, { retryDelayMs: 50, retryJitterMs: 0 });
    expect(lock.isHeld).toBe(true);
    expect(await queued('q2')).toEqual([]);
    await lock.release();
  });

  it('gives up a place when the waiting is aborted, and the next waiter is woken', async () => {
    const holder = await a.locks.acquire('q3', 30_000);
    const quitter = new AbortController();
    const first = b.locks.acquire('q3', 5000, { ...NEVER_POLL, signal: quitter.signal });
    await waitFor('the first waiter to queue', async () => (await queued('q3')).length === 1);
    let second: Lock | undefined;
    const secondWaits = a.locks.acquire('q3', 5000, NEVER_POLL).then((lock) => (second = lock));
    await waitFor('the second waiter to queue', async () => (await queued('q3')).length === 2);
    await holder.release();
    // The first waiter is woken, takes it, and the second keeps waiting behind it.
    const firstLock = await first;
    expect(second).toBeUndefined();
    await firstLock.release();
    await secondWaits;
    await second!.release();

    // Aborting a queued waiter takes it out of the queue at once.
    const again = await a.locks.acquire('q3', 30_000);
    const aborted = new AbortController();
    const waiting = b.locks.acquire('q3', 5000, { ...NEVER_POLL, signal: aborted.signal });
    await waitFor('the waiter to queue', async () => (await queued('q3')).length === 1);
    aborted.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'LOCK_NOT_ACQUIRED', reason: 'aborted' });
    await waitFor('the queue to empty', async () => (await queued('q3')).length === 0);
    await again.release();
  });

  it('tries when the holder lease runs out, though nobody released it', async () => {
    await raw.set(`${PREFIX}lock:{q4}`, 'crashed-holder', 'PX', 300);
    const lock = await b.locks.acquire('q4', 5000, NEVER_POLL);
    expect(lock.isHeld).toBe(true);
    await lock.release();
  });

  it('does not queue a caller that tries once', async () => {
    const holder = await a.locks.acquire('q5', 30_000);
    await expect(b.locks.acquire('q5', 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
    });
    expect(await queued('q5')).toEqual([]);
    await holder.release();
  });
});
