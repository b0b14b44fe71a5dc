import type { ModuleMetadata } from '@nestjs/common';
import { CACHE_DEFAULTS } from './cache.constants';
import type { StoreSettings } from './cache.store';
import type { CacheWarmer } from './cache-warmer.types';

export interface CacheModuleOptions {
  /** Default seconds of freshness for entries written without a `ttl`. Default 3600. */
  ttl?: number;
  /** Default TTL jitter fraction, 0 to 1. Default 0.1. */
  jitter?: number;
  l1?: {
    /** Most entries kept in process. Default 10000. */
    maxEntries?: number;
    /** Most bytes (of serialized values) kept in process. Default 64 MiB. */
    maxBytes?: number;
    /** Larger entries are served from Redis only. Default 1 MiB. */
    maxEntryBytes?: number;
  };
  bus?: {
    /** How often the invalidation feed is checked end to end, ms. Default 1000. */
    heartbeatMs?: number;
    /** Without a heartbeat back for this long, L1 stops being trusted, ms. Default 5000. */
    staleAfterMs?: number;
  };
  /** Lease of the cross-instance loader lock, ms. Default 10000. */
  lockTtlMs?: number;
  /**
   * Classes that fill the cache at start-up, made by the module forRoot
   * returns: they may inject CacheService, ConfigService, and what the
   * modules in `imports` export.
   */
  warmers?: (new (...args: never[]) => CacheWarmer)[];
  /** Modules whose providers the warmers inject. */
  imports?: ModuleMetadata['imports'];
}

/** The store's settings: the options given to CacheModule.forRoot, defaults for the rest. */
export function storeSettings(options: CacheModuleOptions): StoreSettings {
  return {
    ttl: options.ttl ?? CACHE_DEFAULTS.ttl,
    jitter: options.jitter ?? CACHE_DEFAULTS.jitter,
    l1: {
      maxEntries: options.l1?.maxEntries ?? CACHE_DEFAULTS.l1MaxEntries,
      maxBytes: options.l1?.maxBytes ?? CACHE_DEFAULTS.l1MaxBytes,
      maxEntryBytes: options.l1?.maxEntryBytes ?? CACHE_DEFAULTS.l1MaxEntryBytes,
    },
    bus: {
      heartbeatMs: options.bus?.heartbeatMs ?? CACHE_DEFAULTS.heartbeatMs,
      staleAfterMs: options.bus?.staleAfterMs ?? CACHE_DEFAULTS.staleAfterMs,
    },
    lockTtlMs: options.lockTtlMs ?? CACHE_DEFAULTS.lockTtlMs,
  };
}
