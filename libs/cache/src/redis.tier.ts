/* eslint-disable no-restricted-syntax -- this file is the cache's L2 repository */
import { join } from 'node:path';
import { type RedisService, type RedisScript } from '@lattice/redis';
import { CACHE_KEY_PREFIX, CACHE_TAG_PREFIX, INVALIDATION_CHANNEL } from './cache.constants';

export type FillOutcome =
  | { written: true }
  /** `current`: the record someone else wrote meanwhile; null when the entry went away. */
  | { written: false; current: string | null };

/**
 * L2: entries in Redis under `cache:` (after KEY_PREFIX). Every change goes
 * through a script that also publishes the invalidation, so no instance can
 * miss a change while its feed is up.
 */
export class RedisTier {
  private readonly writeScript: RedisScript<number>;
  private readonly fillScript: RedisScript<number | string>;
  private readonly deleteScript: RedisScript<number>;
  private readonly tagAddScript: RedisScript<number>;
  private readonly tagTakeScript: RedisScript<string[]>;
  readonly channel: string;

  constructor(private readonly redis: RedisService) {
    this.writeScript = redis.script<number>(join(__dirname, 'cache-write.lua'), 1);
    this.fillScript = redis.script<number | string>(join(__dirname, 'cache-fill.lua'), 1);
    this.deleteScript = redis.script<number>(join(__dirname, 'cache-delete.lua'), 1);
    this.tagAddScript = redis.script<number>(join(__dirname, 'cache-tag-add.lua'), 1);
    this.tagTakeScript = redis.script<string[]>(join(__dirname, 'cache-tag-take.lua'), 1);
    this.channel = redis.channel(INVALIDATION_CHANNEL);
  }

  read(key: string): Promise<string | null> {
    return this.redis.client.get(CACHE_KEY_PREFIX + key);
  }

  async write(key: string, record: string, ttlMs: number, message: string): Promise<void> {
    await this.writeScript.run([CACHE_KEY_PREFIX + key], [record, ttlMs, this.channel, message]);
  }

  async fill(
    key: string,
    record: string,
    ttlMs: number,
    expectedVersion: string,
    message: string,
  ): Promise<FillOutcome> {
    const outcome = await this.fillScript.run(
      [CACHE_KEY_PREFIX + key],
      [record, ttlMs, expectedVersion, this.channel, message],
    );
    if (outcome === 1) return { written: true };
    return { written: false, current: typeof outcome === 'string' ? outcome : null };
  }

  remove(key: string, message: string): Promise<number> {
    return this.deleteScript.run([CACHE_KEY_PREFIX + key], [this.channel, message]);
  }

  /**
   * Adds `key` to the member set of each of `tags`, each set at
   * `cache-tag:{<tag>}` (its own slot on a cluster), kept at least `ttlMs`.
   * Called before the entry is written: an entry Redis holds is always
   * listed under its tags.
   */
  async tag(key: string, tags: readonly string[], ttlMs: number): Promise<void> {
    await Promise.all(
      tags.map((tag) => this.tagAddScript.run([`${CACHE_TAG_PREFIX}{${tag}}`], [key, ttlMs])),
    );
  }

  /** Removes the member sets of `tags` and returns the keys they listed, each once. */
  async takeTagged(tags: readonly string[]): Promise<string[]> {
    const lists = await Promise.all(
      tags.map((tag) => this.tagTakeScript.run([`${CACHE_TAG_PREFIX}{${tag}}`])),
    );
    return [...new Set(lists.flat())];
  }

  /**
   * Removes entries by key (relative to `cache:`), `batch` at a time; returns
   * how many Redis had. On Redis Cluster one UNLINK per key (sent together),
   * since the keys lie in many slots.
   */
  async removeKeys(keys: readonly string[], batch: number): Promise<number> {
    let removed = 0;
    for (let i = 0; i < keys.length; i += batch) {
      const full = keys.slice(i, i + batch).map((key) => CACHE_KEY_PREFIX + key);
      if (this.redis.isCluster) {
        const counts = await Promise.all(full.map((key) => this.redis.client.unlink(key)));
        removed += counts.reduce((sum, n) => sum + n, 0);
      } else {
        removed += await this.redis.client.unlink(...full);
      }
    }
    return removed;
  }

  async publish(message: string): Promise<void> {
    await this.redis.client.publish(this.channel, message);
  }

  /**
   * Deletes every entry matching `pattern` (relative to `cache:`): SCAN on
   * every master, UNLINK in batches of one SCAN page. Returns how many Redis
   * had. On Redis Cluster, keys of one page lie in many slots, and a
   * multi-key UNLINK must not cross slots, so they go one per command (sent
   * together, not awaited one by one).
   */
  async removeMatching(pattern: string, batch: number): Promise<number> {
    let removed = 0;
    for await (const keys of this.redis.scan(CACHE_KEY_PREFIX + pattern, batch)) {
      if (this.redis.isCluster) {
        const counts = await Promise.all(keys.map((key) => this.redis.client.unlink(key)));
        removed += counts.reduce((sum, n) => sum + n, 0);
      } else {
        removed += await this.redis.client.unlink(...keys);
      }
    }
    return removed;
  }
}
