import { performance } from 'node:perf_hooks';

/**
 * Lease validity is tracked on the monotonic clock: a wall-clock step (NTP)
 * must not make a lock look valid for longer than it is.
 */
export const monotonicNow = (): number => performance.now();

/**
 * What a lease loses to clock drift between this process and Redis, and to
 * Redis's 1 ms expiry precision (the allowance the Redlock algorithm uses).
 */
export const driftMs = (ttlMs: number): number => Math.floor(ttlMs * 0.01) + 2;

/** A fence counter outlives the last lease on its resource by this much (see docs/locks.md). */
export const FENCE_RETENTION_MS = 24 * 60 * 60 * 1000;

export const jitter = (maxMs: number): number => Math.random() * maxMs;

/** Resolves after `ms`, or at once when `signal` aborts (the caller checks `signal.aborted`). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Checked where a TTL enters, so a typo fails loudly instead of making a lease of 0 ms. */
export function assertTtl(ttlMs: number, what = 'ttlMs'): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 10 || ttlMs > 2_147_483_647) {
    throw new RangeError(`${what} must be an integer number of milliseconds from 10 to 2147483647`);
  }
}
