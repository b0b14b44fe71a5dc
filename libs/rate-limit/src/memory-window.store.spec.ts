import { MemoryWindowStore } from './memory-window.store';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('MemoryWindowStore (sliding buckets)', () => {
  const policy = { limit: 5, windowMs: 1000 };

  it('admits the limit, then refuses with the time a retry can pass', () => {
    const store = new MemoryWindowStore(10, 100);
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) {
      expect(store.consume('k', policy, t0 + i)).toMatchObject({ allowed: true, remaining: 4 - i });
    }
    const refused = store.consume('k', policy, t0 + 10);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(store.consume('k', policy, t0 + 10 + refused.resetMs - 1).allowed).toBe(false);
    expect(store.consume('k', policy, t0 + 10 + refused.resetMs).allowed).toBe(true);
  });

  it('keeps keys and policies apart', () => {
    const store = new MemoryWindowStore(10, 100);
    for (let i = 0; i < 5; i++) store.consume('a', policy, 5000);
    expect(store.consume('a', policy, 5000).allowed).toBe(false);
    expect(store.consume('b', policy, 5000).allowed).toBe(true);
  });

  it.each([
    [1, 1000, 10],
    [5, 1000, 20],
    [37, 60_000, 20],
    [3, 7_000, 7],
  ])(
    'limit %i, window %i ms, %i buckets: never over the limit in any window, refusing only when the window plus one bucket is full, reset exact',
    (limit, windowMs, buckets) => {
      const store = new MemoryWindowStore(buckets, 100);
      const width = Math.ceil(windowMs / buckets);
      const span = (buckets + 1) * width;
      const next = random(limit * 7919 + windowMs);
      const admitted: number[] = [];
      let refusals = 0;
      // After a refusal, every request before its reset is refused and the first after passes.
      let passAt: number | undefined;
      let now = 10_000_000;
      for (let i = 0; i < 3000; i++) {
        now += Math.floor(next() * next() * (windowMs / limit) * 3);
        const result = store.consume('k', { limit, windowMs }, now);
        if (passAt !== undefined) {
          expect(result.allowed).toBe(now >= passAt);
          if (result.allowed) passAt = undefined;
        }
        if (result.allowed) {
          expect(admitted.filter((t) => t > now - windowMs).length).toBeLessThan(limit);
          admitted.push(now);
        } else {
          refusals++;
          expect(admitted.filter((t) => t > now - span).length).toBeGreaterThanOrEqual(limit);
          expect(result.resetMs).toBeGreaterThan(0);
          expect(result.resetMs).toBeLessThanOrEqual(span);
          passAt ??= now + result.resetMs;
          expect(passAt).toBe(now + result.resetMs);
        }
      }
      expect(admitted.length).toBeGreaterThan(limit);
      expect(refusals).toBeGreaterThan(100);
    },
  );

  it('forgets the oldest keys first once full, and expired keys at all', () => {
    const store = new MemoryWindowStore(10, 10);
    for (let i = 0; i < 10; i++) store.consume(`k${i}`, policy, 1000);
    expect(store.size).toBe(10);
    store.consume('k10', policy, 1000);
    expect(store.size).toBeLessThanOrEqual(10);
    store.consume('late', policy, 1000 + 60_000);
    expect(store.size).toBe(1);
  });
});
