import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RedisService, type RedisScript } from '@lattice/redis';
import { orUnavailable } from './presence-unavailable';
import { INSTANCES_KEY, SESSION_ID, sessionRouteKey } from './socket-routes-keys';

/** Session routes renewed side by side, at most this many at once. */
const RENEW_BATCH = 500;

/**
 * Where each Socket.IO session lives, for gateways that route a session's
 * requests to its instance without sticky load balancing: realtime instances
 * write (their sessions, their own announcement), gateways read. Every
 * failure of Redis is UNAVAILABLE.
 */
@Injectable()
export class SocketRoutesRepository {
  private readonly announceScript: RedisScript<number>;
  private readonly checkScript: RedisScript<number>;

  constructor(private readonly redis: RedisService) {
    this.announceScript = redis.script(join(__dirname, 'instance-announce.lua'), 1);
    this.checkScript = redis.script(join(__dirname, 'instance-check.lua'), 1);
  }

  /** Records that the instance at `url` owns session `sid`, for `ttlMs`. */
  async record(sid: string, url: string, ttlMs: number): Promise<void> {
    await orUnavailable(() => this.redis.client.set(sessionRouteKey(sid), url, 'PX', ttlMs));
  }

  /** Records again every session of the instance at `url` (a lost key comes back too). */
  async renew(sids: readonly string[], url: string, ttlMs: number): Promise<void> {
    // Side by side rather than one pipeline: on a cluster the keys live in many slots.
    for (let i = 0; i < sids.length; i += RENEW_BATCH) {
      const batch = sids.slice(i, i + RENEW_BATCH);
      await orUnavailable(() =>
        Promise.all(
          batch.map((sid) => this.redis.client.set(sessionRouteKey(sid), url, 'PX', ttlMs)),
        ),
      );
    }
  }

  /** The session has ended. */
  async forget(sid: string): Promise<void> {
    await orUnavailable(() => this.redis.client.unlink(sessionRouteKey(sid)));
  }

  /** The address recorded for session `sid`, or null (unknown, ended, lapsed, or not a session id). */
  async ownerOf(sid: string): Promise<string | null> {
    if (!SESSION_ID.test(sid)) return null;
    return orUnavailable(() => this.redis.client.get(sessionRouteKey(sid)));
  }

  /** Announces the instance at `url` as alive for `ttlMs`. */
  async announce(url: string, ttlMs: number): Promise<void> {
    await orUnavailable(() => this.announceScript.run([INSTANCES_KEY], [url, ttlMs]));
  }

  /** The instance at `url` is going away: no gateway routes to it any more. */
  async withdraw(url: string): Promise<void> {
    await orUnavailable(() => this.redis.client.zrem(INSTANCES_KEY, url));
  }

  /** Whether `url` is the address of a realtime instance announced and not lapsed. */
  async isInstance(url: string): Promise<boolean> {
    return (await orUnavailable(() => this.checkScript.run([INSTANCES_KEY], [url]))) === 1;
  }
}
