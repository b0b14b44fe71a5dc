import { join } from 'node:path';
import { RedisScript, type RedisClient } from '@lattice/redis';
import type { Attempt, Extension, Release } from './lock.engine';
import type { LockKeys } from './lock.keys';
import { driftMs, FENCE_RETENTION_MS, monotonicNow } from './lock.timing';

const scriptFiles = (name: string): string[] =>
  ['queue.lua', 'slots.lua', `${name}.lua`].map((file) => join(__dirname, file));

/**
 * The semaphore and read-write lock scripts on one Redis (see slots.lua): a
 * resource's holders are a sorted set of `mode + owner value` by lease expiry,
 * beside a fence counter and the resource's wait queue. Nothing here throws
 * for an unreachable Redis: it is an outcome, as in LockEngine.
 */
export class SlotStore {
  private readonly acquireScript: RedisScript<[number, string | number]>;
  private readonly extendScript: RedisScript<number>;
  private readonly releaseScript: RedisScript<number>;

  constructor(client: RedisClient) {
    this.acquireScript = new RedisScript(client, scriptFiles('slot-acquire'), 2);
    this.extendScript = new RedisScript(client, scriptFiles('slot-extend'), 2);
    this.releaseScript = new RedisScript(client, scriptFiles('slot-release'), 1);
  }

  /**
   * One attempt at a place among `keys`' holders for `member`; `limit` caps
   * the 'r' holders (0: no cap); `liveMs` > 0 queues it for that long.
   */
  async attempt(
    keys: LockKeys,
    member: string,
    ttlMs: number,
    limit: number,
    liveMs: number,
  ): Promise<Attempt> {
    const started = monotonicNow();
    const validUntil = started + ttlMs - driftMs(ttlMs);
    let reply: [number, string | number];
    try {
      reply = await this.acquireScript.run(
        [keys.leases[0], keys.fences[0]],
        [member, ttlMs, ttlMs + FENCE_RETENTION_MS, limit, liveMs],
      );
    } catch (cause) {
      return { kind: 'unreachable', cause };
    }
    if (reply[0] !== 1) return { kind: 'held', retryAfterMs: Number(reply[1]) };
    // Granted too late to be of use (a stalled event loop, a slow Redis): give it back.
    if (monotonicNow() >= validUntil) {
      await this.release(keys, member, limit);
      return { kind: 'held', retryAfterMs: 0 };
    }
    return { kind: 'granted', token: BigInt(reply[1]), validUntil };
  }

  async extend(keys: LockKeys, member: string, ttlMs: number): Promise<Extension> {
    const validUntil = monotonicNow() + ttlMs - driftMs(ttlMs);
    try {
      const extended = await this.extendScript.run(
        [keys.leases[0], keys.fences[0]],
        [member, ttlMs, ttlMs + FENCE_RETENTION_MS],
      );
      return extended === 1 ? { kind: 'extended', validUntil } : { kind: 'refused' };
    } catch (cause) {
      return { kind: 'unreachable', cause };
    }
  }

  /** Ends `member`'s lease, or its place in the queue, and wakes whoever's turn it now is. */
  async release(keys: LockKeys, member: string, limit: number): Promise<Release> {
    try {
      const held = await this.releaseScript.run([keys.leases[0]], [member, limit]);
      return held === 1 ? { kind: 'released' } : { kind: 'expired' };
    } catch (cause) {
      return { kind: 'unreachable', cause };
    }
  }
}
