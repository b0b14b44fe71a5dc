import { ExpiringMap, type Expiring } from './expiring.map';
import type { WindowPolicy, WindowResult } from './window-result';

interface BucketRing extends Expiring {
  limit: number;
  windowMs: number;
  width: number;
  /** Slot s holds the count of bucket `indexes[s]` (a ring of buckets + 1 slots). */
  indexes: number[];
  counts: number[];
}

/**
 * The in-process limiter used while Redis is unreachable (RATE_LIMIT_FAIL=open).
 * Sliding buckets, as in sliding-buckets.lua: constant memory per key, never
 * more than `limit` admitted in any window by this instance, at worst refusing
 * one bucket's width early. It counts this instance's requests only.
 */
export class MemoryWindowStore {
  private readonly rings: ExpiringMap<BucketRing>;

  constructor(
    private readonly buckets: number,
    maxKeys: number,
  ) {
    this.rings = new ExpiringMap(maxKeys);
  }

  get size(): number {
    return this.rings.size;
  }

  clear(): void {
    this.rings.clear();
  }

  consume(key: string, policy: WindowPolicy, now: number, cost = 1): WindowResult {
    const { limit, windowMs } = policy;
    const slots = this.buckets + 1;
    let ring = this.rings.get(key, now);
    if (!ring || ring.limit !== limit || ring.windowMs !== windowMs) {
      ring = {
        limit,
        windowMs,
        width: Math.ceil(windowMs / this.buckets),
        indexes: new Array<number>(slots).fill(-1),
        counts: new Array<number>(slots).fill(0),
        expiresAt: 0,
      };
      this.rings.set(key, ring, now);
    }
    const { width, indexes, counts } = ring;
    const current = Math.floor(now / width);
    const first = current - this.buckets;

    let counted = 0;
    let lowest = current;
    for (let s = 0; s < slots; s++) {
      // Buckets ahead of `current` (the clock stepped back) still count: erring on refusing.
      if (indexes[s] >= first) {
        counted += counts[s];
        if (indexes[s] < lowest) lowest = indexes[s];
      }
    }

    if (counted + cost <= limit) {
      const slot = current % slots;
      if (indexes[slot] !== current) {
        indexes[slot] = current;
        counts[slot] = 0;
      }
      counts[slot] += cost;
      ring.expiresAt = Math.max(ring.expiresAt, (current + this.buckets + 1) * width);
      return {
        allowed: true,
        remaining: limit - counted - cost,
        resetMs: (lowest + this.buckets + 1) * width - now,
      };
    }

    // Refused, not recorded: the first bucket whose expiry brings the count under the limit.
    const excess = counted + cost - limit;
    let dropped = 0;
    let bucket = first;
    for (; bucket < current; bucket++) {
      const slot = bucket % slots;
      if (indexes[slot] === bucket) dropped += counts[slot];
      if (dropped >= excess) break;
    }
    return { allowed: false, remaining: 0, resetMs: (bucket + this.buckets + 1) * width - now };
  }
}
