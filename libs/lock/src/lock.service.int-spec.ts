import { RedisServer, sleep, waitFor } from '@lattice/testing';
import { currentLock } from './lock.context';
import {
  LockExtendFailedError,
  LockLostError,
  LockNotAcquiredError,
  LockReleaseFailedError,
} from './lock.errors';
import { lockInstance, type LockInstance } from './lock-instance.fixture';

const PREFIX = 't1:';

type Instance = LockInstance;
const instance = (url: string): Promise<Instance> =>
  lockInstance({ REDIS_URL: url, KEY_PREFIX: PREFIX });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('LockService on one Redis', () => {
  let server: RedisServer;
  let a: Instance;
  let b: Instance;
  let raw: ReturnType<RedisServer['client']>;

  beforeAll(async () => {
    server = await RedisServer.start();
    [a, b] = await Promise.all([instance(server.url), instance(server.url)]);
    raw = server.client();
  });

  /** Redis comes back empty; the raw connection does not reconnect by itself. */
  async function restartRedis(): Promise<void> {
    await server.restart();
    await waitFor('Redis back', () => a.redis.ping(200), 10_000);
    await waitFor('Redis back', () => b.redis.ping(200), 10_000);
    // Disconnecting an ended ioredis client would arm a 2 s timer for nothing.
    if (raw.status !== 'end') raw.disconnect();
    raw = server.client();
  }

  afterAll(async () => {
    raw?.disconnect();
    await a?.close();
    await b?.close();
    await server?.dispose();
  });

  it('hands a resource to one holder at a time, with a larger fencing token each time', async () => {
    const first = await a.locks.acquire('orders:1', 5000);
    const refused = await rejection(b.locks.acquire('orders:1', 5000, { retryCount: 0 }));
    expect(refused).toBeInstanceOf(LockNotAcquiredError);
    expect(refused).toMatchObject({ code: 'LOCK_NOT_ACQUIRED', reason: 'held', status: 409 });
    expect(await first.release()).toEqual({ released: true });

    const second = await b.locks.acquire('orders:1', 5000, { retryCount: 0 });
    expect(typeof second.token).toBe('bigint');
    expect(second.token).toBeGreaterThan(first.token);
    await second.release();
    const third = await a.locks.acquire('orders:1', 5000);
    expect(third.token).toBeGreaterThan(second.token);
    await third.release();
  });

  it('keeps the lease and its fence counter under one hash tag, with KEY_PREFIX, both with TTLs', async () => {
    const lock = await a.locks.acquire('user:alice', 4000);
    expect(await raw.pttl('t1:lock:{user:alice}')).toBeGreaterThan(3000);
    expect(await raw.get('t1:lock:{user:alice}:fence')).toBe(lock.token.toString());
    // The counter outlives the lease by a day, so it survives every lock on the resource.
    const fenceTtl = await raw.pttl('t1:lock:{user:alice}:fence');
    expect(fenceTtl).toBeGreaterThan(24 * 3600 * 1000);
    expect(fenceTtl).toBeLessThanOrEqual(24 * 3600 * 1000 + 4000);
    await lock.release();
    expect(await raw.exists('t1:lock:{user:alice}')).toBe(0);
    expect(await raw.exists('t1:lock:{user:alice}:fence')).toBe(1);
  });

  it('escapes braces so that any resource name keeps its keys in one hash tag', async () => {
    const lock = await a.locks.acquire('odd{name}%', 2000);
    expect(await raw.exists('t1:lock:{odd%7Bname%7D%25}')).toBe(1);
    await lock.release();
  });

  it('takes several resources all or none, with one token above every earlier one of each', async () => {
    const holdB = await b.locks.acquire('multi:b', 5000);
    const refused = await rejection(
      a.locks.acquire(['multi:a', 'multi:b'], 5000, { retryCount: 0 }),
    );
    expect(refused).toMatchObject({ code: 'LOCK_NOT_ACQUIRED', resources: ['multi:a', 'multi:b'] });
    // Nothing was taken on the free resource either.
    const onlyA = await b.locks.acquire('multi:a', 5000, { retryCount: 0 });
    await onlyA.release();
    await holdB.release();

    const both = await a.locks.acquire(['multi:b', 'multi:a', 'multi:b'], 5000);
    expect(both.resources).toEqual(['multi:a', 'multi:b']);
    expect(both.token).toBeGreaterThan(onlyA.token);
    expect(both.token).toBeGreaterThan(holdB.token);
    expect(await both.release()).toEqual({ released: true });
    const laterA = await b.locks.acquire('multi:a', 5000);
    const laterB = await b.locks.acquire('multi:b', 5000);
    expect(laterA.token).toBeGreaterThan(both.token);
    expect(laterB.token).toBeGreaterThan(both.token);
    await Promise.all([laterA.release(), laterB.release()]);
  });

  it('waits for a busy resource within its bounded retries', async () => {
    const held = await a.locks.acquire('queue', 5000);
    const started = Date.now();
    const refused = await rejection(
      b.locks.acquire('queue', 5000, { retryCount: 3, retryDelayMs: 20, retryJitterMs: 10 }),
    );
    expect(refused).toMatchObject({ code: 'LOCK_NOT_ACQUIRED', attempts: 4 });
    // Three retries: the first waits only until its wake-up subscription is ready, the
    // other two a whole pause (20 ms or more) each, less a millisecond of timer rounding.
    expect(Date.now() - started).toBeGreaterThanOrEqual(38);

    const waiting = b.locks.acquire('queue', 5000, { retryDelayMs: 20, retryJitterMs: 20 });
    await sleep(150);
    await held.release();
    const got = await waiting;
    expect(got.token).toBeGreaterThan(held.token);
    await got.release();
  });

  it('stops waiting when the caller aborts', async () => {
    const held = await a.locks.acquire('abortable', 5000);
    const controller = new AbortController();
    const waiting = rejection(b.locks.acquire('abortable', 5000, { signal: controller.signal }));
    await sleep(100);
    controller.abort();
    expect(await waiting).toMatchObject({ code: 'LOCK_NOT_ACQUIRED', reason: 'aborted' });
    await held.release();
  });

  it('takes a lease over once it expires, without asking its holder', async () => {
    const abandoned = await a.locks.acquire('abandoned', 300);
    const started = Date.now();
    const taken = await b.locks.acquire('abandoned', 5000, { retryDelayMs: 1000 });
    // The waiter wakes when the lease runs out, not at its next 1 s retry.
    expect(Date.now() - started).toBeLessThan(900);
    expect(taken.token).toBeGreaterThan(abandoned.token);
    // The old holder can neither extend nor release the new holder's lease.
    const extendError = await rejection(abandoned.extend(5000));
    expect(extendError).toBeInstanceOf(LockExtendFailedError);
    expect(extendError).toMatchObject({ code: 'LOCK_EXTEND_FAILED', reason: 'expired' });
    expect(await abandoned.release()).toEqual({ released: false });
    expect(await raw.exists('t1:lock:{abandoned}')).toBe(1);
    await taken.release();
  });

  it('refuses to extend a lease that Redis no longer holds for it', async () => {
    const lock = await a.locks.acquire('vanished', 5000);
    await raw.del('t1:lock:{vanished}');
    expect(await rejection(lock.extend(5000))).toMatchObject({
      code: 'LOCK_EXTEND_FAILED',
      reason: 'refused',
    });
    expect(lock.isHeld).toBe(false);
  });

  it('extends from the moment of the extension and reports the new expiry', async () => {
    const lock = await a.locks.acquire('extended', 500);
    const firstExpiry = lock.expiresAt;
    expect(firstExpiry).toBeLessThanOrEqual(Date.now() + 500);
    await sleep(200);
    await lock.extend(2000);
    expect(lock.expiresAt).toBeGreaterThan(firstExpiry + 1000);
    expect(lock.expiresAt).toBeLessThanOrEqual(Date.now() + 2000);
    await sleep(500);
    // Past the first TTL, still held, in Redis too.
    expect(lock.isHeld).toBe(true);
    expect(await raw.pttl('t1:lock:{extended}')).toBeGreaterThan(1000);
    expect(await lock.release()).toEqual({ released: true });
    expect(await lock.release()).toEqual({ released: false });
  });

  it('reports a lease that expired before its release instead of throwing', async () => {
    const lock = await a.locks.acquire('short', 50);
    await sleep(120);
    expect(await lock.release()).toEqual({ released: false });
  });

  it('runs work under `using`, renewing the lease past its TTL, and releases it after', async () => {
    const result = await a.locks.using('long-job', 300, async (signal, token) => {
      expect(currentLock()?.token).toBe(token);
      await sleep(1000);
      expect(signal.aborted).toBe(false);
      expect(await raw.get('t1:lock:{long-job}:fence')).toBe(token.toString());
      expect(await raw.exists('t1:lock:{long-job}')).toBe(1);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await raw.exists('t1:lock:{long-job}')).toBe(0);
    expect(currentLock()).toBeUndefined();
  });

  it('passes an error from the work through, after releasing the lock', async () => {
    const failure = new Error('work failed');
    expect(
      await rejection(
        a.locks.using('failing', 5000, async () => {
          throw failure;
        }),
      ),
    ).toBe(failure);
    expect(await raw.exists('t1:lock:{failing}')).toBe(0);
  });

  it('aborts the work as soon as a renewal is refused, and rejects with LOCK_LOST', async () => {
    let reason: unknown;
    const outcome = await rejection(
      a.locks.using('stolen', 600, async (signal) => {
        await raw.del('t1:lock:{stolen}');
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        reason = signal.reason;
        return 'finished anyway';
      }),
    );
    expect(reason).toBeInstanceOf(LockLostError);
    expect(outcome).toBe(reason);
    expect(outcome).toMatchObject({ code: 'LOCK_LOST', reason: 'refused' });
  });

  it('aborts the work when Redis stays unreachable until the lease runs out', async () => {
    let abortedAt = 0;
    let expiresAt = 0;
    const outcome = rejection(
      a.locks.using('unreachable', 1000, async (signal) => {
        expiresAt = currentLock()!.lock.expiresAt;
        await server.stop();
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        abortedAt = Date.now();
      }),
    );
    const error = await outcome;
    expect(error).toMatchObject({ code: 'LOCK_LOST', reason: 'expired' });
    // Renewals were retried up to the end of the validity, not given up on the first failure.
    expect(abortedAt).toBeGreaterThanOrEqual(expiresAt - 50);

    const stillDown = await rejection(a.locks.acquire('unreachable', 1000, { retryCount: 1 }));
    expect(stillDown).toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'unreachable',
      status: 503,
    });
    await restartRedis();
  });

  it('says LOCK_RELEASE_FAILED when Redis cannot be asked, and releases on a later try', async () => {
    const lock = await a.locks.acquire('release-later', 10_000);
    await server.stop();
    await waitFor('disconnected', () => a.redis.client.status !== 'ready');
    const error = await rejection(lock.release());
    expect(error).toBeInstanceOf(LockReleaseFailedError);
    expect(error).toMatchObject({ code: 'LOCK_RELEASE_FAILED', status: 503 });
    await restartRedis();
    // Redis came back empty: the lease is gone with everything else.
    expect(await lock.release()).toEqual({ released: false });
  });

  it('keeps tokens rising after Redis restarts without its data', async () => {
    const before = await a.locks.acquire('survivor', 5000);
    await before.release();
    await server.stop();
    await restartRedis();
    expect(await raw.exists('t1:lock:{survivor}:fence')).toBe(0);

    const after = await a.locks.acquire('survivor', 5000);
    expect(after.token).toBeGreaterThan(before.token);
    await after.release();
  });
});
