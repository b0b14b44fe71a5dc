import { RedisServer, sleep, waitFor } from '@lattice/testing';
import type { Lock } from './lock.handle';
import { lockInstance, type LockInstance } from './lock-instance.fixture';
import type { LockService } from './lock.service';

const PREFIX = 's1:';
/** A poll so slow that a waiter granted within the test was woken, not polling. */
const NEVER_POLL = { retryDelayMs: 600_000, retryJitterMs: 0 };

/** Semaphores and read-write locks against a real redis-server, two service instances. */
describe('semaphores and read-write locks on one Redis', () => {
  let server: RedisServer;
  let raw: ReturnType<RedisServer['client']>;
  const services: LockInstance[] = [];
  let a: LockService;
  let b: LockService;

  const instance = async (url: string) => {
    const started = await lockInstance({ REDIS_URL: url, KEY_PREFIX: PREFIX });
    services.push(started);
    return started.locks;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = server.client();
    [a, b] = await Promise.all([instance(server.url), instance(server.url)]);
  });

  afterAll(async () => {
    raw?.disconnect();
    for (const service of services) await service.close();
    await server?.dispose();
  });

  const queued = (key: string) => raw.zrange(`${PREFIX}${key}:queue`, '0', '-1');
  const holders = (key: string) => raw.zcard(`${PREFIX}${key}`);

  it('lets `limit` holders in at once, each with a larger token, and wakes the next when one leaves', async () => {
    const first = await a.semaphore('pool', 2).acquire(10_000);
    const second = await b.semaphore('pool', 2).acquire(10_000);
    expect(second.token).toBeGreaterThan(first.token);
    expect(await holders('sem:{pool}')).toBe(2);
    await expect(a.semaphore('pool', 2).acquire(10_000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
      status: 409,
    });
    let third: Lock | undefined;
    const waiting = a
      .semaphore('pool', 2)
      .acquire(10_000, NEVER_POLL)
      .then((lock) => (third = lock));
    await waitFor('the third to queue', async () => (await queued('sem:{pool}')).length === 1);
    expect(third).toBeUndefined();
    expect(await first.release()).toEqual({ released: true });
    await waiting;
    expect(third!.token).toBeGreaterThan(second.token);
    expect(await holders('sem:{pool}')).toBe(2);
    await Promise.all([second.release(), third!.release()]);
    expect(await raw.exists(`${PREFIX}sem:{pool}`)).toBe(0);
  });

  it('serves semaphore waiters first come first served across instances', async () => {
    const held = await a.semaphore('fifo', 1).acquire(10_000);
    const order: string[] = [];
    const waits: Promise<void>[] = [];
    for (const [name, locks] of [
      ['b1', b],
      ['a1', a],
      ['b2', b],
    ] as const) {
      const before = (await queued('sem:{fifo}')).length;
      waits.push(
        locks
          .semaphore('fifo', 1)
          .acquire(10_000, NEVER_POLL)
          .then(async (lock) => {
            order.push(name);
            await lock.release();
          }),
      );
      await waitFor(`${name} to queue`, async () => (await queued('sem:{fifo}')).length > before);
    }
    await held.release();
    await Promise.all(waits);
    expect(order).toEqual(['b1', 'a1', 'b2']);
  });

  it('lets readers share, keeps a writer alone, and does not let later readers overtake a waiting writer', async () => {
    const r1 = await a.readWrite('doc').read.acquire(10_000);
    const r2 = await b.readWrite('doc').read.acquire(10_000);
    let writer: Lock | undefined;
    const writing = b
      .readWrite('doc')
      .write.acquire(10_000, NEVER_POLL)
      .then((lock) => (writer = lock));
    await waitFor('the writer to queue', async () => (await queued('rw:{doc}')).length === 1);
    // A reader arriving now queues behind the writer instead of joining the readers.
    await expect(a.readWrite('doc').read.acquire(10_000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
    });
    let lateReader: Lock | undefined;
    const reading = a
      .readWrite('doc')
      .read.acquire(10_000, NEVER_POLL)
      .then((lock) => (lateReader = lock));
    await waitFor('the reader to queue', async () => (await queued('rw:{doc}')).length === 2);
    await r1.release();
    await sleep(50);
    expect(writer).toBeUndefined();
    await r2.release();
    await writing;
    expect(writer!.token).toBeGreaterThan(r2.token);
    expect(lateReader).toBeUndefined();
    await writer!.release();
    await reading;
    expect(lateReader!.token).toBeGreaterThan(writer!.token);
    // A writer waits for the reader, then runs alone.
    await expect(b.readWrite('doc').write.acquire(10_000, { retryCount: 0 })).rejects.toMatchObject(
      { code: 'LOCK_NOT_ACQUIRED' },
    );
    await lateReader!.release();
  });

  it('renews a place while `using` runs and aborts the work the moment the place is lost', async () => {
    const rw = a.readWrite('renewed');
    const result = await rw.write.using(150, async (signal, token) => {
      await sleep(400); // well past one TTL: renewed meanwhile
      expect(signal.aborted).toBe(false);
      return token;
    });
    expect(typeof result).toBe('bigint');

    const rejected = a.semaphore('stolen', 3).using(3_000, async (signal) => {
      // Someone deletes the holders behind its back: the next renewal is refused.
      await raw.del(`${PREFIX}sem:{stolen}`);
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      return 'finished';
    });
    await expect(rejected).rejects.toMatchObject({ code: 'LOCK_LOST', reason: 'refused' });
  });

  it('reports an expired place on release and refuses its extension', async () => {
    const lock = await a.semaphore('short', 1).acquire(50);
    await sleep(120);
    await expect(lock.extend(1000)).rejects.toMatchObject({ code: 'LOCK_EXTEND_FAILED' });
    expect(await lock.release()).toEqual({ released: false });
    // The expired holder no longer counts: another caller gets the permit.
    const next = await b.semaphore('short', 1).acquire(1000, { retryCount: 0 });
    await next.release();
  });

  it('refuses bad arguments with clear errors', async () => {
    expect(() => a.semaphore('x', 0)).toThrow('A semaphore limit must be a positive integer');
    expect(() => a.readWrite(['x', 'y'] as unknown as string)).toThrow(TypeError);
    expect(() => a.readWrite('')).toThrow('A resource name must be a non-empty string');
    await expect(a.semaphore('x', 1).acquire(5)).rejects.toThrow(RangeError);
    await expect(a.readWrite('x').write.acquire(1000, { replicaAckTimeoutMs: 10 })).rejects.toThrow(
      'replicaAckTimeoutMs is supported by mutexes only',
    );
  });

  it('fails as unreachable (503) while Redis is down, and works again after', async () => {
    const down = await instance(server.url);
    raw.disconnect();
    await server.stop();
    await expect(
      down.semaphore('outage', 1).acquire(1000, { retryCount: 1 }),
    ).rejects.toMatchObject({ code: 'LOCK_NOT_ACQUIRED', reason: 'unreachable', status: 503 });
    await server.restart();
    raw = server.client();
    const semaphore = down.semaphore('outage', 1);
    const back = await waitFor('a permit once Redis is back', () =>
      semaphore.acquire(1000, { retryCount: 0 }).catch(() => undefined),
    );
    expect(await back.release()).toEqual({ released: true });
  });
});
