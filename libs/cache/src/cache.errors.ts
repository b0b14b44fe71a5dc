import { LatticeError, UnavailableError } from '@lattice/common';

/*
 * Errors of the cache, each with a stable code. Messages say what is wrong
 * with the caller's input or what to do; they never carry Redis errors.
 */

/** 400 INVALID_CACHE_KEY: a key or namespace outside the documented rule. */
export class InvalidCacheKeyError extends LatticeError {
  constructor(message: string) {
    super('INVALID_CACHE_KEY', message, 400);
  }
}

/** 400 INVALID_CACHE_PATTERN: a pattern outside the documented glob grammar. */
export class InvalidCachePatternError extends LatticeError {
  constructor(message: string) {
    super('INVALID_CACHE_PATTERN', message, 400);
  }
}

/** 400 INVALID_CACHE_VALUE: a value that does not survive JSON (undefined, a BigInt, a cycle). */
export class InvalidCacheValueError extends LatticeError {
  constructor(message: string) {
    super('INVALID_CACHE_VALUE', message, 400);
  }
}

/** 400 INVALID_CACHE_OPTIONS: a TTL, grace or jitter out of range. */
export class InvalidCacheOptionsError extends LatticeError {
  constructor(message: string) {
    super('INVALID_CACHE_OPTIONS', message, 400);
  }
}

/** 503 UNAVAILABLE: Redis did not answer, so the cache cannot say or change anything for sure. */
export class CacheUnavailableError extends UnavailableError {
  constructor(cause?: unknown) {
    super('The cache cannot reach Redis right now; try again shortly');
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * 503 CACHE_LOCK_TIMEOUT: with `lock: true`, another instance held the
 * loader lock for the whole wait and no value (fresh or in grace) appeared.
 */
export class CacheLockTimeoutError extends LatticeError {
  constructor(
    readonly key: string,
    waitedMs: number,
  ) {
    super(
      'CACHE_LOCK_TIMEOUT',
      `Another instance is still loading this value after ${waitedMs} ms; try again shortly`,
      503,
    );
  }
}

/**
 * 503 CACHE_LOAD_TIMEOUT: a getOrSet loader ran longer than its
 * `hardTimeoutMs` and no value in grace could be served instead. Also the
 * `error` of a stale answer given at `softTimeoutMs`.
 */
export class CacheLoadTimeoutError extends LatticeError {
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
    readonly kind: 'soft' | 'hard',
  ) {
    super(
      'CACHE_LOAD_TIMEOUT',
      kind === 'hard'
        ? `Loading this value took longer than ${timeoutMs} ms; try again shortly`
        : `Loading this value is taking longer than ${timeoutMs} ms; a stale value was served`,
      503,
    );
  }
}

/** An error as the cache's log lines show it: its message, or the thing itself. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
