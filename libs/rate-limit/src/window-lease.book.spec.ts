import { type Waiter, WindowLeaseBook } from './window-lease.book';
import type { WindowResult } from './window-result';
import { NO_BLOCK, SCRIPT_KIND, type ScriptGroup } from './window-script.codec';

const LEASE_MS = 100;
const policy = { limit: 6400, windowMs: 60_000 };

const group = (key: string, requests: number, over: Partial<ScriptGroup> = {}): ScriptGroup => ({
  key,
  kind: SCRIPT_KIND.exact,
  ...policy,
  cost: 1,
  block: NO_BLOCK,
  requests: new Array<unknown>(requests),
  extra: 0,
  ...over,
});

/** What Redis answers for a lease call: `leased` reserved, `remaining` left for everyone. */
const reply = (leased: number, remaining = 1000) => ({
  admitted: 2,
  remaining,
  resetMs: 60_000,
  retryMs: 0,
  leased,
});

interface Giveback {
  key: string;
  stamp: number;
  count: number;
}

function book(leaseMs = LEASE_MS) {
  const givebacks: Giveback[] = [];
  const leases = new WindowLeaseBook(leaseMs, (key, _policy, stamp, count) =>
    givebacks.push({ key, stamp, count }),
  );
  return { leases, givebacks };
}

function waiter(): Waiter & { results: WindowResult[]; errors: Error[] } {
  const results: WindowResult[] = [];
  const errors: Error[] = [];
  return { results, errors, resolve: (r) => results.push(r), reject: (e) => errors.push(e) };
}

describe('WindowLeaseBook', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('asks for a lease sized by demand, at most 1/32 of the limit and 1000, never for a penalty', () => {
    const { leases } = book();
    const now = Date.now();
    expect(leases.plan(group('one', 1), now)).toBeUndefined();
    expect(leases.plan(group('few', 3), now)?.size).toBe(3);
    expect(leases.plan(group('share', 500, { limit: 320 }), now)?.size).toBe(10);
    expect(leases.plan(group('cap', 5000, { limit: 1_000_000 }), now)?.size).toBe(1000);
    // Under 64, 1/32 of the limit is below two: no lease.
    expect(leases.plan(group('small', 10, { limit: 63 }), now)).toBeUndefined();
    const penalty = { key: 'p:block', ms: 1000 };
    expect(leases.plan(group('p', 10, { block: penalty }), now)).toBeUndefined();
    expect(book(0).leases.plan(group('off', 10), now)).toBeUndefined();
  });

  it('hands out the leased admissions until the lease time is up, then gives back the rest', () => {
    const { leases, givebacks } = book();
    const sentAt = Date.now();
    const flight = leases.plan(group('k', 4), sentAt)!;
    jest.advanceTimersByTime(2);
    leases.land('k', flight, reply(4), 5_000_100, sentAt, Date.now());

    expect(leases.take('k', policy, 'exact', Date.now())).toEqual({
      allowed: true,
      remaining: 1003,
      resetMs: 60_000,
    });
    expect(leases.take('k', policy, 'approximate', Date.now())).toBeUndefined();
    expect(leases.take('k', { ...policy, limit: 100 }, 'exact', Date.now())).toBeUndefined();
    expect(leases.take('other', policy, 'exact', Date.now())).toBeUndefined();
    // Usable until the send time plus the lease time, not the landing time plus it.
    expect(leases.take('k', policy, 'exact', sentAt + LEASE_MS - 1)).toBeDefined();
    expect(leases.take('k', policy, 'exact', sentAt + LEASE_MS)).toBeUndefined();

    expect(givebacks).toEqual([]);
    jest.advanceTimersByTime(LEASE_MS);
    expect(givebacks).toEqual([{ key: 'k', stamp: 5_000_100, count: 2 }]);
    expect(leases.take('k', policy, 'exact', sentAt + 1)).toBeUndefined();
  });

  it('sizes the next lease by what the last one served, and gives nothing back when all were used', () => {
    const { leases, givebacks } = book();
    const now = Date.now();
    leases.land('k', leases.plan(group('k', 2), now)!, reply(2), 1, now, now);
    leases.take('k', policy, 'exact', now);
    leases.take('k', policy, 'exact', now);
    expect(leases.take('k', policy, 'exact', now)).toBeUndefined();
    expect(leases.plan(group('k', 1), now)?.size).toBe(3);
    jest.advanceTimersByTime(LEASE_MS);
    expect(givebacks).toEqual([]);
  });

  it('serves the requests that waited on a lease call from its lease, and returns those it cannot', () => {
    const { leases } = book();
    const now = Date.now();
    const flight = leases.plan(group('k', 2), now)!;
    const waiters = [waiter(), waiter(), waiter()];
    for (const w of waiters) expect(leases.join('k', policy, w)).toBe(true);
    expect(leases.join('k', { ...policy, windowMs: 1000 }, waiter())).toBe(false);
    expect(leases.join('other', policy, waiter())).toBe(false);

    const unserved = leases.land('k', flight, reply(2), 1, now, now);
    expect(waiters.map((w) => w.results)).toEqual([
      [{ allowed: true, remaining: 1001, resetMs: 60_000 }],
      [{ allowed: true, remaining: 1000, resetMs: 60_000 }],
      [],
    ]);
    expect(unserved).toEqual([waiters[2]]);
    // Landed: the next request is no longer waiting on a call.
    expect(leases.join('k', policy, waiter())).toBe(false);
  });

  it('rejects the waiters of a failed lease call, and asks again at the next demand', () => {
    const { leases } = book();
    const now = Date.now();
    const flight = leases.plan(group('k', 2), now)!;
    const w = waiter();
    leases.join('k', policy, w);
    const error = new Error('Redis did not answer within 50 ms');
    leases.abandon('k', flight, error);
    expect(w.errors).toEqual([error]);
    expect(leases.join('k', policy, waiter())).toBe(false);
    expect(leases.plan(group('k', 2), now)).toBeDefined();
  });

  it('after Redis refused to lease (window half used), asks again only once that lease time is up', () => {
    const { leases } = book();
    const now = Date.now();
    leases.land('k', leases.plan(group('k', 5), now)!, reply(0), 1, now, now);
    expect(leases.plan(group('k', 5), now + LEASE_MS - 1)).toBeUndefined();
    expect(leases.plan(group('k', 5, { limit: 12_800 }), now)).toBeDefined();
    expect(leases.plan(group('k', 5), now + LEASE_MS)).toBeDefined();
  });

  it('gives back every unused lease at once when asked (shutdown), and a replaced one too', () => {
    const { leases, givebacks } = book();
    const now = Date.now();
    leases.land('a', leases.plan(group('a', 3), now)!, reply(3), 11, now, now);
    leases.land('b', leases.plan(group('b', 3), now)!, reply(3), 12, now, now);
    leases.land('b', leases.plan(group('b', 3), now)!, reply(3), 13, now, now);
    expect(givebacks).toEqual([{ key: 'b', stamp: 12, count: 3 }]);
    leases.endAll();
    expect(givebacks).toEqual([
      { key: 'b', stamp: 12, count: 3 },
      { key: 'a', stamp: 11, count: 3 },
      { key: 'b', stamp: 13, count: 3 },
    ]);
    jest.advanceTimersByTime(LEASE_MS);
    expect(givebacks).toHaveLength(3);
  });
});
