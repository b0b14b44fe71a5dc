import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockModule, LockService } from '@lattice/lock';
import { RedisService } from '@lattice/redis';
import {
  startTestRedis,
  waitFor,
  type TestRedis,
  startPlatform,
  type PlatformInstance,
} from '@lattice/testing';
import { LockWorker, type WorkerEvent } from '../fixtures/lock/lock-worker.process';

const PREFIX = 'e2e:';
const FENCED_WRITE = readFileSync(
  join(__dirname, '..', 'fixtures', 'lock', 'fenced-write.lua'),
  'utf8',
);

/**
 * Locks across real processes: lock-worker.js instances use the built
 * @lattice/lock against the Redis under test, as app instances would, and write
 * their fencing tokens to a Redis "resource" that refuses lower tokens.
 */
describe('locks across processes', () => {
  let server: TestRedis;
  let platform: PlatformInstance;
  let redis: RedisService;
  let locks: LockService;
  let raw: ReturnType<TestRedis['client']>;
  const workers: LockWorker[] = [];

  const start = (mode: string, id: string, env: Record<string, string> = {}) => {
    const worker = LockWorker.start(mode, id, {
      ...server.env,
      KEY_PREFIX: PREFIX,
      ...env,
    });
    workers.push(worker);
    return worker;
  };

  /** The test process writes to the fenced resource too, as the current holder. */
  const fencedWrite = async (resource: string, token: bigint): Promise<boolean> =>
    (await raw.eval(
      FENCED_WRITE,
      2,
      `${PREFIX}fenced:{${resource}}:highest`,
      `${PREFIX}fenced:{${resource}}:log`,
      token.toString(),
      'test',
    )) === 1;

  const fencedLog = async (resource: string): Promise<{ token: bigint; note: string }[]> =>
    (await raw.lrange(`${PREFIX}fenced:{${resource}}:log`, 0, -1)).map((line) => {
      const [token, ...note] = line.split(' ');
      return { token: BigInt(token), note: note.join(' ') };
    });

  beforeAll(async () => {
    server = await startTestRedis();
    raw = server.client();
    platform = await startPlatform({
      env: { ...server.env, KEY_PREFIX: PREFIX },
      imports: [LockModule],
    });
    redis = platform.get(RedisService);
    await redis.whenReady(5000);
    locks = platform.get(LockService);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.kill()));
  });

  afterAll(async () => {
    raw?.disconnect();
    await platform?.close();
    await server?.dispose();
  });

  it('never lets two of many contending processes hold one resource at once', async () => {
    const iterations = 600;
    const contenders = ['1', '2', '3', '4'].map((id) =>
      start('contend', id, { ITERATIONS: String(iterations), RESOURCE: 'contended' }),
    );
    const results = await Promise.all(contenders.map((w) => w.next('finished', 60_000)));
    for (const result of results) {
      expect(result).toMatchObject({ acquisitions: iterations, overlaps: 0, refusedWrites: 0 });
    }
    // Every holder wrote twice; the resource saw each token's two writes back to back
    // (nobody in between) and the tokens rise from one holder to the next.
    const log = await fencedLog('contended');
    expect(log).toHaveLength(4 * iterations * 2);
    for (let i = 0; i < log.length; i += 2) {
      expect(log[i + 1]).toEqual(log[i]);
      if (i > 0) expect(log[i].token).toBeGreaterThan(log[i - 1].token);
    }
    const holders = new Set(log.map((entry) => entry.note));
    expect(holders).toEqual(new Set(['1', '2', '3', '4']));
  });

  it('fences off a holder paused past its TTL: it gets LOCK_LOST and its late write is refused', async () => {
    const paused = start('pause', 'paused', { RESOURCE: 'paused', TTL_MS: '1000' });
    const wrote = await paused.next('wrote');
    expect(wrote.accepted).toBe(true);
    paused.signal('SIGSTOP');

    // Its lease runs out while it is stopped; this process takes the lock and writes.
    const lock = await locks.acquire('paused', 10_000, { retryDelayMs: 100 });
    expect(lock.token).toBeGreaterThan(BigInt(wrote.token as string));
    expect(await fencedWrite('paused', lock.token)).toBe(true);

    paused.signal('SIGCONT');
    paused.send('go');
    const late = await paused.next('late-write');
    expect(late.accepted).toBe(false);
    expect(await paused.next('using-rejected')).toMatchObject({ code: 'LOCK_LOST' });

    // The current holder is unaffected.
    expect(await fencedWrite('paused', lock.token)).toBe(true);
    expect(await lock.release()).toEqual({ released: true });
  });

  it('takes over the lock of a killed holder once its TTL has passed', async () => {
    const ttl = 1000;
    const holder = start('hold', 'holder', { RESOURCE: 'held', TTL_MS: String(ttl) });
    const holding = await holder.next('holding');
    await holder.kill();
    const killedAt = Date.now();

    // The dead holder's lease still stands...
    await expect(locks.acquire('held', 5000, { retryCount: 0 })).rejects.toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
    });
    // ...until its TTL runs out, at most one TTL after its last renewal.
    const lock = await locks.acquire('held', 5000, { retryCount: 200, retryDelayMs: 50 });
    expect(Date.now() - killedAt).toBeLessThan(ttl + 1500);
    expect(lock.token).toBeGreaterThan(BigInt(holding.token as string));
    await lock.release();
  });

  it('runs a start-up task once among 4 processes starting together, all resolving after it', async () => {
    const instances = ['1', '2', '3', '4'].map((id) =>
      start('run-once', id, { TASK: 'migrate', RUN_MS: '500' }),
    );
    const resolved = await Promise.all(instances.map((w) => w.next('resolved')));
    // Each one resolved only once the task had finished.
    for (const event of resolved) expect(event.finished).toBe('1');
    expect(instances.flatMap((w) => w.events).filter((e) => e.event === 'running')).toHaveLength(1);
    expect(await raw.get(`${PREFIX}task:migrate:runs`)).toBe('1');
  });

  it('hands a run-once task to another process when its runner dies', async () => {
    const instances = ['1', '2', '3', '4'].map((id) =>
      start('run-once', id, { TASK: 'seed', HANG_FIRST: '1', LEASE_TTL_MS: '1000', RUN_MS: '100' }),
    );
    const runner = await waitFor('a runner', () =>
      instances.find((w) => w.events.some((e) => e.event === 'running')),
    );
    await runner.kill();
    const others = instances.filter((w) => w !== runner);
    const resolved = await Promise.all(others.map((w) => w.next('resolved')));
    for (const event of resolved) expect(event.finished).toBe('2');
    expect(others.flatMap((w) => w.events).filter((e) => e.event === 'running')).toHaveLength(1);
    expect(await raw.get(`${PREFIX}task:seed:runs`)).toBe('2');
  });

  it('runs a periodic leader job on one process at a time, moving within one TTL when it dies', async () => {
    const ttl = 1000;
    const candidates = ['1', '2', '3'].map((id) =>
      start('lead', id, { TASK: 'ticker', TTL_MS: String(ttl), EVERY_MS: '100' }),
    );
    await Promise.all(candidates.map((w) => w.next('campaigning')));
    const ticksOf = (w: LockWorker): WorkerEvent[] => w.events.filter((e) => e.event === 'tick');
    const first = await waitFor('a leader to tick five times', () =>
      candidates.find((w) => ticksOf(w).length >= 5),
    );
    expect(candidates.filter((w) => ticksOf(w).length > 0)).toEqual([first]);

    await first.kill();
    const killedAt = Date.now();
    const second = await waitFor('another leader', () =>
      candidates.find((w) => w !== first && ticksOf(w).length > 0),
    );
    expect(Date.now() - killedAt).toBeLessThan(ttl + 1500);

    // A leader that steps down (SIGTERM) releases its lease: the last one leads right after.
    const third = candidates.find((w) => w !== first && w !== second)!;
    expect(ticksOf(third)).toHaveLength(0);
    second.signal('SIGTERM');
    await second.next('stopped');
    await waitFor('the last candidate to lead', () => ticksOf(third).length > 0);

    // Every tick was accepted by the fenced resource, one leader's run after the other's.
    const log = await fencedLog('ticker');
    const order = log.map((entry) => entry.note.split(' ')[0]);
    const runs = order.filter((id, i) => i === 0 || id !== order[i - 1]);
    expect(runs).toEqual([first.id, second.id, third.id]);
    for (let i = 1; i < log.length; i++) {
      expect(log[i].token).toBeGreaterThanOrEqual(log[i - 1].token);
    }
    for (const worker of candidates) {
      for (const tick of ticksOf(worker)) expect(tick.accepted).toBe(true);
    }
  });
});
