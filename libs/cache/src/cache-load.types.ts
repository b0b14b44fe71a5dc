import type { LockService } from '@lattice/lock';
import { type CacheMetrics } from './cache.metrics';
import { type CacheRecord } from './cache-record';
import type { CacheSource } from './cache.types';
import { type FillTracker } from './fill.tracker';
import { type InvalidationBus } from './invalidation.bus';
import { type MemoryTier } from './memory.tier';
import { type RedisTier } from './redis.tier';

/** The types the loads share with the classes around them (CacheStore, LoaderRunner, GraceFallback). */

/** What a write needs, resolved from the caller's options and the defaults. */
export interface WriteSettings {
  ttlMs: number;
  graceMs: number;
  /** Full tags (namespace included); empty for none. */
  tags: readonly string[];
}

/** How one getOrSet loads, resolved from the caller's options. */
export interface LoadPlan {
  write: WriteSettings;
  /** With `lock: true`: how long to wait for another instance's loader; null without the lock. */
  lockWaitMs: number | null;
  softTimeoutMs?: number;
  hardTimeoutMs?: number;
  /** A fresh value with less than this many ms of life left is refreshed in the background. */
  refreshWithinMs?: number;
}

export interface Outcome {
  record: CacheRecord;
  source: CacheSource;
  stale: boolean;
  error?: unknown;
}

/** What the loads need of the store: its tiers, and how it builds and reads records. */
export interface LoadContext {
  l2: RedisTier;
  memory: MemoryTier;
  tracker: FillTracker;
  bus: InvalidationBus;
  metrics: CacheMetrics;
  locks: LockService;
  lockTtlMs: number;
  /** Aborts at shutdown. */
  shutdown: AbortSignal;
  prepare(
    key: string,
    value: unknown,
    write: WriteSettings,
  ): { raw: string; record: CacheRecord; pxMs: number };
  parse(raw: string, key: string): CacheRecord | null;
}
