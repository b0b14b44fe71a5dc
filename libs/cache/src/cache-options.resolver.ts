import { CACHE_DEFAULTS, MAX_TTL_SECONDS } from './cache.constants';
import { InvalidCacheOptionsError } from './cache.errors';
import type { LoadPlan, WriteSettings } from './cache-load.types';
import type { CacheSetOptions, GetOrSetOptions } from './cache.types';

/**
 * The caller's options of a write or a getOrSet, checked and resolved against
 * the app's defaults (CacheModule.forRoot) into what the store and the loads
 * act on.
 */
export class CacheOptionsResolver {
  constructor(
    /** The app's default `ttl` (seconds) and `jitter` (fraction). */
    private readonly defaults: { ttl: number; jitter: number },
  ) {}

  /** How one getOrSet loads; throws InvalidCacheOptionsError for an option out of range. */
  loadPlan(options: GetOrSetOptions): LoadPlan {
    const write = this.writeSettings(options);
    const plan: LoadPlan = { write, lockWaitMs: null };
    const lockWaitMs = options.lockWaitMs ?? CACHE_DEFAULTS.lockWaitMs;
    if (options.lock) {
      if (!(Number.isSafeInteger(lockWaitMs) && lockWaitMs >= 0)) {
        throw new InvalidCacheOptionsError('lockWaitMs must be a non-negative integer');
      }
      plan.lockWaitMs = lockWaitMs;
    }
    for (const name of ['softTimeoutMs', 'hardTimeoutMs'] as const) {
      const value = options[name];
      if (value === undefined) continue;
      if (!(Number.isSafeInteger(value) && value > 0 && value <= MAX_TTL_SECONDS * 1000)) {
        throw new InvalidCacheOptionsError(`${name} must be a positive integer of milliseconds`);
      }
      plan[name] = value;
    }
    const { earlyRefresh } = options;
    if (earlyRefresh !== undefined) {
      if (typeof earlyRefresh !== 'number' || !(earlyRefresh > 0 && earlyRefresh < 1)) {
        throw new InvalidCacheOptionsError('earlyRefresh must be a fraction above 0 and below 1');
      }
      const ttlMs = (options.ttl ?? this.defaults.ttl) * 1000;
      plan.refreshWithinMs = Math.round(ttlMs * (1 - earlyRefresh));
    }
    return plan;
  }

  /** How one write is stored; throws InvalidCacheOptionsError for an option out of range. */
  writeSettings(options: CacheSetOptions): WriteSettings {
    const ttl = options.ttl ?? this.defaults.ttl;
    const grace = options.grace ?? 0;
    const jitter = options.jitter ?? this.defaults.jitter;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) {
      throw new InvalidCacheOptionsError(
        `ttl must be a number of seconds above 0 and at most ${MAX_TTL_SECONDS}`,
      );
    }
    if (
      typeof grace !== 'number' ||
      !Number.isFinite(grace) ||
      grace < 0 ||
      grace > MAX_TTL_SECONDS
    ) {
      throw new InvalidCacheOptionsError(
        `grace must be a number of seconds from 0 to ${MAX_TTL_SECONDS}`,
      );
    }
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
      throw new InvalidCacheOptionsError('jitter must be a fraction from 0 to 1');
    }
    // Jitter only ever shortens a TTL: an entry never outlives what its writer asked for.
    const ttlMs = Math.max(1, Math.round(ttl * 1000 * (1 - jitter * Math.random())));
    return { ttlMs, graceMs: Math.round(grace * 1000), tags: options.tags ?? [] };
  }
}
