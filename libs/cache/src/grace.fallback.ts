import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { describeError } from './cache.errors';
import type { Outcome } from './cache-load.types';
import { type CacheMetrics } from './cache.metrics';
import { type CacheRecord } from './cache-record';

/** A value past its TTL but inside its grace period, and the tier it was found in. */
export interface Stale {
  record: CacheRecord;
  source: 'l1' | 'l2';
}

/** A stale value served for a key is logged at most once per this long. */
const STALE_LOG_INTERVAL_MS = 10_000;

/**
 * Grace: a value past its TTL still answers a getOrSet whose load failed or
 * is late. Each such answer is counted; the log says so at most once per key
 * every STALE_LOG_INTERVAL_MS, so a failing loader does not flood it.
 */
export class GraceFallback {
  private readonly logger = new Logger('Cache');
  private readonly staleLogged = new LRUCache<string, true>({
    max: 1000,
    ttl: STALE_LOG_INTERVAL_MS,
  });

  constructor(private readonly metrics: CacheMetrics) {}

  /** `record` as a value in grace, or undefined when there is none or it is past its grace. */
  usable(record: CacheRecord | undefined, source: 'l1' | 'l2'): Stale | undefined {
    return record !== undefined && Date.now() < record.staleUntil ? { record, source } : undefined;
  }

  /** The answer that serves `stale` in place of a load that failed with `error`. */
  serve(key: string, stale: Stale, error: unknown): Outcome {
    this.metrics.staleServed.inc();
    if (!this.staleLogged.has(key)) {
      this.staleLogged.set(key, true);
      this.logger.warn(
        `Serving a value past its TTL (in grace) for "${key}": ${describeError(error)}`,
      );
    }
    return { record: stale.record, source: stale.source, stale: true, error };
  }
}
