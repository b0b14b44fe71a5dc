import { RedisServer, sleep, waitFor } from '@lattice/testing';
import type { Lock } from './lock.handle';
import { lockInstance, type LockInstance } from './lock-instance.fixture';

type Instance = LockInstance;

function instance(appRedisUrl: string, quorumUrls: string[]): Promise<Instance> {
  return lockInstance({
    REDIS_URL: appRedisUrl,
    LOCK_QUORUM_URLS: quorumUrls.join(','),
    KEY_PREFIX: 'q:',
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('LockService in quorum mode (LOCK_QUORUM_URLS)', () => {
  let app: RedisServer;
  let nodes: RedisServer[];
  let a: Instance;
  let b: Instance;

  const raw = async <T>(
    node: RedisServer,
    read: (c: ReturnType<RedisServer['client']>) => Promise<T>,
  ) => {
    const client = node.client();
    try {
      return await read(client);
    } finally {
      client.disconnect();
    }
  };

  /** Acquires once every node answers again (quorum connections reconnect by themselves). */
  const acquireWhenBack = (who: Instance, resource: string): Promise<Lock> =>
    waitFor(
      `a lock on ${resource}`,
      () => who.locks.acquire(resource, 5000, { retryCount: 0 }).catch(() => undefined),
      10_000,
    );

  beforeAll(async () => {
    [app, ...nodes] = await Promise.all([0, 1, 2, 3].map(() => RedisServer.start()));
    const urls = nodes.map((n) => n.url);
    a = await instance(app.url, urls);
    b = await instance(app.url, urls);
  });

  afterEach(async () => {
    await Promise.all(nodes.filter((n) => !n.running).map((n) => n.restart()));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await Promise.all([app, ...(nodes ?? [])].map((s) => s?.dispose()));
  });

  it('takes the lock on the independent nodes, not on the app’s own Redis', async () => {
    expect(a.locks.mode).toBe('quorum');
    const lock = await acquireWhenBack(a, 'report');
    // The lock is granted once a majority answers; those nodes' counters are raised
    // to the token before it is handed out. A late node holds the lease too, but
    // only the majority is guaranteed to have been raised.
    let raisedToToken = 0;
    for (const node of nodes) {
      await waitFor('the lease on every node', async () =>
        (await raw(node, (c) => c.exists('q:lock:{report}'))) === 1 ? true : undefined,
      );
      const counter = await raw(node, (c) => c.get('q:lock:{report}:fence'));
      if (counter !== null && BigInt(counter) >= lock.token) raisedToToken += 1;
    }
    expect(raisedToToken).toBeGreaterThanOrEqual(2);
    expect(await raw(app, (c) => c.exists('q:lock:{report}'))).toBe(0);
    expect(await rejection(b.locks.acquire('report', 5000, { retryCount: 0 }))).toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'held',
    });
    expect(await lock.release()).toEqual({ released: true });
    for (const node of nodes) expect(await raw(node, (c) => c.exists('q:lock:{report}'))).toBe(0);
  });

  it('keeps working with one node down, and refuses without a majority', async () => {
    const before = await acquireWhenBack(a, 'minority');
    await before.release();
    await nodes[2].kill();
    const withTwo = await acquireWhenBack(a, 'minority');
    expect(withTwo.token).toBeGreaterThan(before.token);
    expect(await rejection(b.locks.acquire('minority', 5000, { retryCount: 0 }))).toMatchObject({
      reason: 'held',
    });
    await withTwo.extend(5000);
    expect(await withTwo.release()).toEqual({ released: true });

    await nodes[1].kill();
    expect(await rejection(a.locks.acquire('minority', 5000, { retryCount: 1 }))).toMatchObject({
      code: 'LOCK_NOT_ACQUIRED',
      reason: 'unreachable',
      status: 503,
    });
  });

  it('issues a token above every earlier one even to a majority that shares one node with the last', async () => {
    // Node 0's counter runs far ahead (as after a clock that ran fast there).
    const ahead = 5_000_000_000_000_000n;
    await acquireWhenBack(a, 'overlap').then((lock) => lock.release());
    await raw(nodes[0], (c) => c.set('q:lock:{overlap}:fence', ahead.toString()));
    // A lock is granted as soon as any majority answers; with node 2 down that majority
    // must be nodes 0 and 1, so the lock takes node 0's token and node 1 is raised to it.
    await nodes[2].kill();
    const first = await acquireWhenBack(a, 'overlap');
    expect(first.token).toBeGreaterThan(ahead);
    await first.release();
    // Now node 0 is gone and node 2 is back, empty: the next majority is nodes 1 and 2,
    // which shares only node 1 with the last.
    await nodes[0].kill();
    await nodes[2].restart();
    const second = await acquireWhenBack(b, 'overlap');
    expect(second.token).toBeGreaterThan(first.token);
    await second.release();
  });

  it('keeps tokens rising when a node comes back without its data', async () => {
    const first = await acquireWhenBack(a, 'amnesia');
    await first.release();
    await nodes[1].kill();
    await nodes[1].restart();
    await nodes[2].kill();
    const second = await acquireWhenBack(b, 'amnesia');
    expect(second.token).toBeGreaterThan(first.token);
    await second.release();
  });

  it('aborts `using` with LOCK_LOST once a majority refuses the renewal', async () => {
    await acquireWhenBack(a, 'renewed').then((lock) => lock.release());
    let reason: unknown;
    const outcome = await rejection(
      a.locks.using('renewed', 600, async (signal) => {
        await sleep(700);
        // Renewed on every node past the first TTL.
        expect(signal.aborted).toBe(false);
        await raw(nodes[0], (c) => c.del('q:lock:{renewed}'));
        await raw(nodes[1], (c) => c.del('q:lock:{renewed}'));
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        reason = signal.reason;
      }),
    );
    expect(outcome).toBe(reason);
    expect(outcome).toMatchObject({ code: 'LOCK_LOST', reason: 'refused' });
  });

  it('runs a run-once task once across instances in quorum mode', async () => {
    let runs = 0;
    const task = async () => {
      runs++;
      await sleep(200);
    };
    await acquireWhenBack(a, 'warm-up').then((lock) => lock.release());
    await Promise.all([a.locks.runOnce('quorum-task', task), b.locks.runOnce('quorum-task', task)]);
    expect(runs).toBe(1);
  });
});
