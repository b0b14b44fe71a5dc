import { randomUUID } from 'node:crypto';
import { type LockService } from '@lattice/lock';
import { type MetricsService } from '@lattice/observability';
import { type RedisService } from '@lattice/redis';
import { CACHE_DEFAULTS, MAX_KEYS_PER_MESSAGE } from './cache.constants';
import { CacheUnavailableError } from './cache.errors';
import { CacheMetrics } from './cache.metrics';
import { valueFor, type CacheRecord } from './cache-record';
import { CacheLoads } from './cache.loader';
import { CacheOptionsResolver } from './cache-options.resolver';
import type { CacheLoader, CacheResult, CacheSetOptions, GetOrSetOptions } from './cache.types';
import { FillTracker, type PendingFill } from './fill.tracker';
import { globToRegExp } from './glob.matcher';
import { InvalidationBus } from './invalidation.bus';
import { L1Invalidator } from './l1.invalidator';
import { MemoryTier, type MemoryTierLimits } from './memory.tier';
import { RecordCodec } from './record.codec';
import { RedisTier } from './redis.tier';

export interface StoreSettings {
  ttl: number;
  jitter: number;
  l1: MemoryTierLimits;
  bus: { heartbeatMs: number; staleAfterMs: number };
  lockTtlMs: number;
}

interface Flight<T> {
  fill: PendingFill;
  promise: Promise<T>;
}

/**
 * The two-level cache behind every namespace: L1 in process, L2 in Redis,
 * the invalidation bus between instances, and the single-flight maps that
 * make a stampede of misses cost one Redis read and one loader call.
 *
 * Rules that keep L1 honest (docs/cache.md, "Invalidation"):
 * - every change to L2 is made by a script that also publishes it;
 * - L1 is read and filled only while the invalidation feed is complete;
 * - a value that comes back from Redis enters L1 only if nothing invalidated
 *   its key while it was in flight (FillTracker);
 * - every invalidation, made here or announced by another instance, goes
 *   through L1Invalidator, which also tells the key's watchers.
 */
export class CacheStore {
  readonly origin = randomUUID();
  private readonly memory: MemoryTier;
  private readonly tracker = new FillTracker();
  private readonly l2: RedisTier;
  private readonly bus: InvalidationBus;
  private readonly metrics: CacheMetrics;
  private readonly reads = new Map<string, Flight<CacheRecord | null>>();
  private readonly loads: CacheLoads;
  private readonly shutdown = new AbortController();
  private readonly options: CacheOptionsResolver;
  private readonly records = new RecordCodec();
  private readonly invalidator: L1Invalidator;

  constructor(
    redis: RedisService,
    locks: LockService,
    metrics: MetricsService,
    settings: StoreSettings,
  ) {
    this.options = new CacheOptionsResolver(settings);
    this.memory = new MemoryTier(settings.l1);
    this.l2 = new RedisTier(redis);
    this.metrics = new CacheMetrics(metrics, {
      entries: () => this.memory.entries,
      bytes: () => this.memory.bytes,
      trusted: () => this.tracker.isTrusted,
    });
    this.invalidator = new L1Invalidator(this.memory, this.tracker, this.metrics);
    this.bus = new InvalidationBus(redis, this.origin, this.invalidator, settings.bus);
    this.loads = new CacheLoads({
      l2: this.l2,
      memory: this.memory,
      tracker: this.tracker,
      bus: this.bus,
      metrics: this.metrics,
      locks,
      lockTtlMs: settings.lockTtlMs,
      shutdown: this.shutdown.signal,
      prepare: (key, value, write) => this.records.prepare(key, value, write),
      parse: (raw, key) => this.records.parse(raw, key),
    });
  }

  start(): void {
    this.bus.start();
  }

  stop(): void {
    this.shutdown.abort(new Error('The cache is shutting down'));
    this.bus.stop();
    this.memory.clear();
  }

  /** True while L1 is in use: the invalidation feed is subscribed and complete. */
  get l1InUse(): boolean {
    return this.tracker.isTrusted;
  }

  /**
   * Calls `listener` whenever `key` may have changed: written or deleted here
   * or on any instance, or the invalidation feed came back after a gap. The
   * listener reads the key again; returns a function that stops watching.
   */
  watch(key: string, listener: () => void): () => void {
    return this.invalidator.watch(key, listener);
  }

  async get(key: string): Promise<unknown> {
    const now = Date.now();
    if (this.tracker.isTrusted) {
      const record = this.memory.get(key, now);
      if (record !== undefined && now < record.freshUntil) {
        this.metrics.hit.l1.inc();
        return valueFor(record);
      }
    }
    this.metrics.miss.l1.inc();
    const record = await this.readThrough(key);
    if (record !== null && Date.now() < record.freshUntil) {
      this.metrics.hit.l2.inc();
      return valueFor(record);
    }
    this.metrics.miss.l2.inc();
    return undefined;
  }

  async getOrSet<T>(
    key: string,
    loader: CacheLoader<T>,
    options: GetOrSetOptions,
  ): Promise<CacheResult<T>> {
    const plan = this.options.loadPlan(options);
    const now = Date.now();
    let staleCopy: CacheRecord | undefined;
    if (this.tracker.isTrusted) {
      const record = this.memory.get(key, now);
      if (record !== undefined) {
        if (now < record.freshUntil) {
          this.metrics.hit.l1.inc();
          this.loads.refreshIfDue(key, loader, plan, record);
          return { value: valueFor(record) as T, source: 'l1', stale: false };
        }
        staleCopy = record;
      }
    }
    this.metrics.miss.l1.inc();
    const outcome = await this.loads.getOrLoad(key, loader, plan, staleCopy);
    const result: CacheResult<T> = {
      value: valueFor(outcome.record) as T,
      source: outcome.source,
      stale: outcome.stale,
    };
    if (outcome.error !== undefined) result.error = outcome.error;
    return result;
  }

  async set(key: string, value: unknown, options: CacheSetOptions): Promise<void> {
    const write = this.options.writeSettings(options);
    const { raw, record, pxMs } = this.records.prepare(key, value, write);
    const fill = this.tracker.begin(key);
    try {
      // Tagged first: an entry in Redis is always listed under its tags.
      if (write.tags.length > 0) await this.l2.tag(key, write.tags, pxMs);
      await this.l2.write(key, raw, pxMs, this.bus.message({ key, version: record.version }));
    } catch (error) {
      // It may or may not have been written: this instance drops its copy either way.
      this.tracker.settle(fill);
      this.invalidator.forget(key);
      this.metrics.l2Errors.inc({ operation: 'set' });
      throw new CacheUnavailableError(error);
    }
    // Reads of this key still in flight may have left Redis before this write.
    this.tracker.invalidateKey(key, record.version, fill);
    if (this.tracker.settle(fill, record.version)) this.memory.set(key, record);
    else this.memory.delete(key);
    this.invalidator.notify(key);
  }

  async delete(keys: readonly string[]): Promise<number> {
    const unique = [...new Set(keys)];
    for (const key of unique) this.invalidator.forget(key);
    this.metrics.invalidations.local.inc(unique.length);
    const results = await Promise.allSettled(
      unique.map((key) => this.l2.remove(key, this.bus.message({ key }))),
    );
    // Reads that raced with the deletes may have filled L1 meanwhile.
    for (const key of unique) {
      this.invalidator.forget(key);
      this.invalidator.notify(key);
    }
    let removed = 0;
    for (const result of results) {
      if (result.status === 'rejected') {
        this.metrics.l2Errors.inc({ operation: 'delete' });
        throw new CacheUnavailableError(result.reason);
      }
      removed += result.value;
    }
    return removed;
  }

  /**
   * Deletes every entry whose key matches `pattern`. It is announced before
   * the scan (every L1 drops its matches at once) and again after it (copies
   * read back from Redis while the scan ran go too).
   */
  async deletePattern(pattern: string): Promise<number> {
    const matcher = globToRegExp(pattern);
    const forget = () => this.invalidator.forgetMatching(matcher);
    const message = this.bus.message({ pattern });
    forget();
    this.metrics.invalidations.local.inc();
    try {
      await this.l2.publish(message);
      const removed = await this.l2.removeMatching(pattern, CACHE_DEFAULTS.scanCount);
      await this.l2.publish(message);
      return removed;
    } catch (error) {
      this.metrics.l2Errors.inc({ operation: 'deletePattern' });
      // Part of the pattern may be gone: tell the others anyway, if Redis takes it.
      await this.l2.publish(message).catch(() => undefined);
      throw new CacheUnavailableError(error);
    } finally {
      forget();
      this.invalidator.notify(matcher);
    }
  }

  /**
   * Deletes every entry stored with any of `tags` (full tags), from Redis and
   * from every L1: the tags' member sets are taken, the entries they list
   * removed (one UNLINK per key on a cluster, where they lie in many slots),
   * and the list of keys announced to every instance. No SCAN. Resolves with
   * how many entries Redis had.
   */
  async deleteTags(tags: readonly string[]): Promise<number> {
    let keys: string[];
    try {
      keys = await this.l2.takeTagged([...new Set(tags)]);
    } catch (error) {
      this.metrics.l2Errors.inc({ operation: 'deleteTags' });
      throw new CacheUnavailableError(error);
    }
    for (const key of keys) this.invalidator.forget(key);
    this.metrics.invalidations.local.inc();
    const announce = async () => {
      for (let i = 0; i < keys.length; i += MAX_KEYS_PER_MESSAGE) {
        await this.l2.publish(this.bus.message({ keys: keys.slice(i, i + MAX_KEYS_PER_MESSAGE) }));
      }
    };
    try {
      const removed = await this.l2.removeKeys(keys, CACHE_DEFAULTS.scanCount);
      await announce();
      return removed;
    } catch (error) {
      this.metrics.l2Errors.inc({ operation: 'deleteTags' });
      // Some entries may be gone: tell the others anyway, if Redis takes it.
      await announce().catch(() => undefined);
      throw new CacheUnavailableError(error);
    } finally {
      // Reads that raced with the deletes may have filled L1 meanwhile.
      for (const key of keys) {
        this.invalidator.forget(key);
        this.invalidator.notify(key);
      }
    }
  }

  /** A coalesced read of L2: concurrent misses of one key share one GET. */
  private readThrough(key: string): Promise<CacheRecord | null> {
    const pending = this.reads.get(key);
    if (pending !== undefined && this.tracker.isCurrent(pending.fill)) return pending.promise;
    const fill = this.tracker.begin(key);
    const current: Flight<CacheRecord | null> = {
      fill,
      promise: this.l2.read(key).then(
        (raw) => {
          const record = raw === null ? null : this.records.parse(raw, key);
          if (
            record !== null &&
            Date.now() < record.staleUntil &&
            this.tracker.settle(fill, record.version)
          ) {
            this.memory.set(key, record);
          }
          return record;
        },
        (error: unknown) => {
          this.metrics.l2Errors.inc({ operation: 'get' });
          throw new CacheUnavailableError(error);
        },
      ),
    };
    void current.promise
      .finally(() => {
        this.tracker.settle(fill);
        if (this.reads.get(key) === current) this.reads.delete(key);
      })
      .catch(() => undefined);
    this.reads.set(key, current);
    return current.promise;
  }
}
