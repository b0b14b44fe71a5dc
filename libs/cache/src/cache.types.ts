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
   * True when the loader failed and a value past its TTL but inside its grace
   * period was returned instead; `error` is what the loader threw.
   */
  stale: boolean;
  error?: unknown;
}
