import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { RedisService } from '@lattice/redis';
import { REVOKED_CHANNEL } from './session-keys';
import type { SessionRecord } from './session.types';

/** A validated session, with the secret that was accepted for it. */
export interface CachedSession {
  record: SessionRecord;
  secret: Buffer;
}

/**
 * How long a validated session is trusted in process. A revocation normally
 * reaches every instance through pub/sub within milliseconds; this bounds how
 * long a missed one can last.
 */
export const SESSION_CACHE_TTL_MS = 5_000;
const SESSION_CACHE_ENTRIES = 50_000;

/**
 * Validated sessions kept in process, evicted everywhere the moment one is
 * revoked. While the subscriber is not connected, revocations could be missed,
 * so the cache is emptied and bypassed until it is subscribed again.
 */
@Injectable()
export class SessionCache implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SessionCache');
  private readonly entries = new LRUCache<string, CachedSession>({
    max: SESSION_CACHE_ENTRIES,
    ttl: SESSION_CACHE_TTL_MS,
  });
  /** Ids revoked lately, so a read that raced with the revocation is not cached. */
  private readonly revoked = new LRUCache<string, true>({
    max: SESSION_CACHE_ENTRIES,
    ttl: SESSION_CACHE_TTL_MS,
  });
  private listening = false;

  constructor(private readonly redis: RedisService) {}

  onModuleInit(): void {
    const channel = this.redis.channel(REVOKED_CHANNEL);
    const subscriber = this.redis.createSubscriber('session-revocations');
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) this.forget(message.split(','));
    });
    const stopTrusting = () => {
      if (this.listening) this.logger.warn('Revocation feed lost: bypassing the session cache');
      this.listening = false;
      this.entries.clear();
    };
    subscriber.on('close', stopTrusting);
    subscriber.on('end', stopTrusting);
    // ioredis re-subscribes after reconnecting; trust again only once it has.
    subscriber.on('ready', () => {
      void subscriber.subscribe(channel).then(
        () => (this.listening = true),
        () => stopTrusting(),
      );
    });
    // Not awaited: with Redis down at start-up the app still starts, bypassing the cache.
    void subscriber.subscribe(channel).then(
      () => (this.listening = true),
      () => undefined,
    );
  }

  get(sessionId: string): CachedSession | undefined {
    return this.listening ? this.entries.get(sessionId) : undefined;
  }

  set(sessionId: string, session: CachedSession): void {
    if (this.listening && !this.revoked.has(sessionId)) this.entries.set(sessionId, session);
  }

  /** Forgets the sessions here and tells every other instance to. */
  async revoke(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    this.forget(sessionIds);
    await this.redis.client.publish(this.redis.channel(REVOKED_CHANNEL), sessionIds.join(','));
  }

  private forget(sessionIds: string[]): void {
    for (const id of sessionIds) {
      this.entries.delete(id);
      this.revoked.set(id, true);
    }
  }

  onApplicationShutdown(): void {
    this.listening = false;
    this.entries.clear();
  }
}
