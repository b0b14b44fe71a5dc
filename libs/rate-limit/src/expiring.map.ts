/** What an ExpiringMap holds: anything that knows when it stops mattering. */
export interface Expiring {
  expiresAt: number;
}

const SWEEP_EVERY_MS = 10_000;

/**
 * A Map whose entries vanish once `expiresAt` passes, bounded to `maxKeys`.
 * No timer: expired entries are dropped when read and swept at most every
 * 10 s from the calls themselves, so an idle process does nothing. Past
 * `maxKeys` the oldest entries go first: forgetting one only costs a Redis
 * call (or, in the fallback, lets that key start afresh).
 */
export class ExpiringMap<V extends Expiring> {
  private readonly entries = new Map<string, V>();
  private nextSweepAt = 0;

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, now: number): void {
    if (now >= this.nextSweepAt) this.sweep(now);
    if (!this.entries.has(key) && this.entries.size >= this.maxKeys) {
      this.sweep(now);
      this.evictOldest(Math.max(1, Math.floor(this.maxKeys / 10)));
    }
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private sweep(now: number): void {
    this.nextSweepAt = now + SWEEP_EVERY_MS;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
  }

  private evictOldest(count: number): void {
    if (this.entries.size < this.maxKeys) return;
    let left = count;
    for (const key of this.entries.keys()) {
      if (left-- <= 0) break;
      this.entries.delete(key);
    }
  }
}
