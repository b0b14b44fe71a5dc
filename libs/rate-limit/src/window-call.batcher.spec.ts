import { APPROXIMATE_BUCKETS } from './rate-limit.constants';
import { MAX_BATCH, type ScriptSender, WindowCallBatcher } from './window-call.batcher';
import { WindowLeaseBook } from './window-lease.book';
import type { WindowResult } from './window-result';
import { type ScriptCall, WindowScriptCodec } from './window-script.codec';

/** Long enough that no lease runs out while a test awaits its turns. */
const LEASE_MS = 1000;
const CLOCK = 1_700_000_000_000;
const policy = { limit: 6400, windowMs: 60_000 };
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

interface SentCall extends ScriptCall {
  answer: (...groups: number[][]) => void;
  fail: (error: Error) => void;
}

/** A sender standing in for Redis: records each call, answered by the test. */
function fakeRedis(): { sent: SentCall[]; send: ScriptSender } {
  const sent: SentCall[] = [];
  const send: ScriptSender = (call) =>
    new Promise<number[]>((resolve, reject) =>
      sent.push({
        ...call,
        answer: (...groups) => resolve([...groups.flat(), CLOCK]),
        fail: reject,
      }),
    );
  return { sent, send };
}

function batcher(perCall = MAX_BATCH, leaseMs = 0) {
  const { sent, send } = fakeRedis();
  const leases = new WindowLeaseBook(leaseMs, (key, p, stamp, count) =>
    store.giveBack(key, p, stamp, count),
  );
  const store = new WindowCallBatcher(send, new WindowScriptCodec(leaseMs), leases, perCall);
  return { store, leases, sent };
}

/** The group entries of a call: [policy index, requests, lease] per group. */
function entries(call: ScriptCall): number[][] {
  const rest = call.args.slice(3 + 4 * call.args[2]);
  return Array.from({ length: rest.length / 3 }, (_, g) => rest.slice(3 * g, 3 * g + 3));
}

describe('WindowCallBatcher', () => {
  it('decides the requests of one turn in one call, one group per counter, each request on its own', async () => {
    const { store, sent } = batcher();
    const a = [1, 2, 3].map(() => store.consume('a', policy, 'exact'));
    const b = store.consume('b', { limit: 10, windowMs: 1000 }, 'exact');
    const approximate = store.consume('a', policy, 'approximate');
    const costly = store.consume('a', policy, 'exact', 5);
    await nextTurn();

    expect(sent).toHaveLength(1);
    expect(sent[0].keys).toEqual(['a', 'b', 'a', 'a']);
    expect(sent[0].args.slice(0, 3)).toEqual([APPROXIMATE_BUCKETS, 0, 3]);
    expect(entries(sent[0])).toEqual([
      [1, 3, 0],
      [2, 1, 0],
      [3, 1, 0],
      [1, -5, 0],
    ]);
    sent[0].answer([2, 10, 900, 400, 0], [1, 9, 1000, 0, 0], [1, 50, 800, 0, 0], [0, 0, 0, 700, 0]);
    expect(await Promise.all(a)).toEqual<WindowResult[]>([
      { allowed: true, remaining: 11, resetMs: 900 },
      { allowed: true, remaining: 10, resetMs: 900 },
      { allowed: false, remaining: 0, resetMs: 400 },
    ]);
    expect(await b).toEqual({ allowed: true, remaining: 9, resetMs: 1000 });
    expect(await approximate).toEqual({ allowed: true, remaining: 50, resetMs: 800 });
    expect(await costly).toEqual({ allowed: false, remaining: 0, resetMs: 700 });
  });

  it('puts at most 64 counters in a call, and one in Cluster mode', async () => {
    const { store, sent } = batcher();
    for (let i = 0; i < 130; i++) void store.consume(`k${i}`, policy, 'exact');
    await nextTurn();
    expect(sent.map((call) => call.keys.length)).toEqual([64, 64, 2]);

    const cluster = batcher(1);
    for (const key of ['x', 'y', 'z']) void cluster.store.consume(key, policy, 'exact');
    await nextTurn();
    expect(cluster.sent.map((call) => call.keys)).toEqual([['x'], ['y'], ['z']]);
  });

  it('on a Redis failure rejects every request of the failed call only, and never resends them', async () => {
    const { store, sent } = batcher(2);
    const settled = ['a', 'b', 'c'].map((key) =>
      store.consume(key, policy, 'exact').then(
        (result) => result.allowed,
        (error: Error) => error.message,
      ),
    );
    await nextTurn();
    expect(sent).toHaveLength(2);
    sent[0].fail(new Error('Connection is closed.'));
    sent[1].answer([1, 5, 1000, 0, 0]);
    expect(await Promise.all(settled)).toEqual([
      'Connection is closed.',
      'Connection is closed.',
      true,
    ]);
    await nextTurn();
    expect(sent).toHaveLength(2);
  });

  it('asks for a lease with a busy counter, serves the requests that came meanwhile from it', async () => {
    const { store, leases, sent } = batcher(MAX_BATCH, LEASE_MS);
    const burst = [1, 2, 3].map(() => store.consume('k', policy, 'exact'));
    await nextTurn();
    expect(entries(sent[0])).toEqual([[1, 3, 3]]);
    // While the lease call is in flight, requests of the key wait for it rather than make their own.
    const waiting = [1, 2, 3, 4].map(() => store.consume('k', policy, 'exact'));
    await nextTurn();
    expect(sent).toHaveLength(1);

    sent[0].answer([3, 100, 60_000, 0, 3]);
    expect((await Promise.all(burst)).map((r) => r.remaining)).toEqual([105, 104, 103]);
    await nextTurn();
    // Three from the lease; the fourth, past it, goes to Redis in the next call.
    expect(sent).toHaveLength(2);
    expect(sent[1].keys).toEqual(['k']);
    sent[1].answer([1, 99, 60_000, 0, 0]);
    expect((await Promise.all(waiting)).map((r) => r.remaining)).toEqual([102, 101, 100, 99]);
    leases.endAll();
  });

  it('gives unused leased admissions back in the next call, with the stamp Redis wrote', async () => {
    const { store, leases, sent } = batcher(MAX_BATCH, LEASE_MS);
    const burst = [1, 2].map(() => store.consume('k', policy, 'exact'));
    await nextTurn();
    sent[0].answer([2, 100, 60_000, 0, 2]);
    await Promise.all(burst);
    leases.endAll();
    await nextTurn();
    expect(sent[1].keys).toEqual(['k']);
    expect(sent[1].args).toEqual([APPROXIMATE_BUCKETS, LEASE_MS, 0, 0, CLOCK + LEASE_MS, 2]);
    sent[1].answer([0, 0, 0, 0, 0]);
  });

  it('rejects the requests waiting on a lease call that failed', async () => {
    const { store, sent } = batcher(MAX_BATCH, LEASE_MS);
    const burst = [1, 2].map(() => store.consume('k', policy, 'exact').catch((e: Error) => e));
    await nextTurn();
    const waiting = store.consume('k', policy, 'exact').catch((e: Error) => e);
    await nextTurn();
    const error = new Error('Redis did not answer within 50 ms');
    sent[0].fail(error);
    expect(await Promise.all([...burst, waiting])).toEqual([error, error, error]);
    expect(sent).toHaveLength(1);
  });
});
