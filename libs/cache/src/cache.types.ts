/** Where a value came from. */
export type CacheSource = 'l1' | 'l2' | 'loader';

export interface CacheSetOptions {
  /** Seconds the entry is fresh (fractions allowed). Default: the module's `ttl` (3600). */
  ttl?: number;
  /**
   * Seconds the entry is kept after it stops being fresh, to be served if the
   * loader of a later `getOrSet` fails. Default 0.
   */
  grace?: number;
  /** Fraction (0 to 1) by which the TTL is shortened at random. Default: the module's `jitter` (0.1). */
  jitter?: number;
  /**
   * Tags the entry carries (at most 32, each following the key rule, relative
   * to the namespace like keys): `deleteTags` of any of them deletes it.
   */
  tags?: readonly string[];
}

export interface GetOrSetOptions extends CacheSetOptions {
  /**
   * Load once across all instances: the loader runs under a lock of the lock
   * lib, and instances that wait for it read the value it stored. Without it,
   * the loader runs once per instance.
   */
  lock?: boolean;
  /** With `lock`: how long to wait for another instance's loader, in ms. Default 10000. */
  lockWaitMs?: number;
  /**
   * When the loader has not finished after this many ms and a value in grace
   * exists, that value is answered at once (`stale: true`) and the load
   * finishes in the background, storing its value. Default: none.
   */
  softTimeoutMs?: number;
  /**
   * The loader is aborted (its signal fires) after this many ms: the stale
   * value in grace is answered if there is one, else 503 CACHE_LOAD_TIMEOUT.
   * Bounds every load, in the background too. Default: none.
   */
  hardTimeoutMs?: number;
  /**
   * Fraction (0 to 1) of `ttl` after which a fresh value is reloaded in the
   * background, by one instance at a time, while callers keep getting the
   * current value: with `ttl: 60, earlyRefresh: 0.8`, a getOrSet that finds
   * less than 12 s of life left starts a refresh. Default: none.
   */
  earlyRefresh?: number;
}

/**
 * Loads a value on a miss. `signal` aborts when the load no longer matters
 * (with `lock: true`, when the loader lock is lost; at shutdown).
 */
export type CacheLoader<T> = (signal: AbortSignal) => T | Promise<T>;

/** What `getOrSetEntry` returns: the value and how it was obtained. */
export interface CacheResult<T> {
  value: T;
  source: CacheSource;
  /**
   * True when a value past its TTL but inside its grace period was returned
   * because the loader failed or was slower than `softTimeoutMs`; `error` is
   * what the loader threw, or a CacheLoadTimeoutError.
   */
  stale: boolean;
  error?: unknown;
}
