import { join } from 'node:path';
import { type RedisService, type RedisScript } from '@lattice/redis';
import { CACHE_KEY_PREFIX, INVALIDATION_CHANNEL } from './cache.constants';

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
  readonly channel: string;

  constructor(private readonly redis: RedisService) {
    this.writeScript = redis.script<number>(join(__dirname, 'cache-write.lua'), 1);
    this.fillScript = redis.script<number | string>(join(__dirname, 'cache-fill.lua'), 1);
    this.deleteScript = redis.script<number>(join(__dirname, 'cache-delete.lua'), 1);
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
