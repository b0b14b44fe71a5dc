import { LRUCache } from 'lru-cache';
import type { CacheRecord } from './cache-record';

export interface MemoryTierLimits {
  maxEntries: number;
  maxBytes: number;
  maxEntryBytes: number;
}

/**
 * L1: records kept in process, bounded by entries and by bytes, least
 * recently used out first. Expiry is checked on read against the record's own
 * times, which are the same on every instance and in Redis.
 */
export class MemoryTier {
  private readonly lru: LRUCache<string, CacheRecord>;

  constructor(limits: MemoryTierLimits) {
    this.lru = new LRUCache<string, CacheRecord>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      maxEntrySize: limits.maxEntryBytes,
      sizeCalculation: (record) => record.size,
    });
  }

  /** The record, fresh or in grace; undefined when absent or past its grace. */
  get(key: string, now: number): CacheRecord | undefined {
    const record = this.lru.get(key);
    if (record === undefined) return undefined;
    if (now < record.staleUntil) return record;
    this.lru.delete(key);
    return undefined;
  }

  /** The version held for `key`, without counting as a use. */
  versionOf(key: string): string | undefined {
    return this.lru.peek(key)?.version;
  }

  /** Entries larger than `maxEntryBytes` are not kept (lru-cache refuses them). */
  set(key: string, record: CacheRecord): void {
    this.lru.set(key, record);
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  deleteMatching(pattern: RegExp): void {
    for (const key of [...this.lru.keys()]) if (pattern.test(key)) this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  get entries(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
