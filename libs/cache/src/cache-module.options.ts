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
  /** Classes (providers of this module) that fill the cache at start-up. */
  warmers?: (new (...args: never[]) => CacheWarmer)[];
}
