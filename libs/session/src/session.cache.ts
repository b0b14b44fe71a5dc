import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { RevocationFeed } from './revocation.feed';
import type { SessionRecord } from './session.types';

/** A validated session, with the secret that was accepted for it. */
export interface CachedSession {
  record: SessionRecord;
  secret: Buffer;
}

/**
 * How long a validated session is trusted in process. A revocation reaches
 * every instance through the revocation feed before the logout answers; this
 * bounds how long one missed in some other way can last.
 */
export const SESSION_CACHE_TTL_MS = 5_000;
const SESSION_CACHE_ENTRIES = 50_000;

/**
 * Validated sessions kept in process, evicted everywhere the moment one is
 * revoked. While the revocation feed is not connected, revocations could be
 * missed, so the cache is emptied and bypassed until it is subscribed again.
 *
 * When a user id is given to a new account (after Redis lost the counter or
 * all its data), the feed announces the id with the new account's
 * generation before the account is written: from then on, a cached session
 * of that id opened for another generation is neither served nor stored.
 */
@Injectable()
export class SessionCache implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new LRUCache<string, CachedSession>({
    max: SESSION_CACHE_ENTRIES,
    ttl: SESSION_CACHE_TTL_MS,
  });
  /** Ids revoked lately, so a read that raced with the revocation is not cached. */
  private readonly revoked = new LRUCache<string, true>({
    max: SESSION_CACHE_ENTRIES,
    ttl: SESSION_CACHE_TTL_MS,
  });

  /**
   * User ids lately given to a new account → its generation. Kept as long as
   * an entry cached before the announcement can live, so each such entry
   * meets its account's generation when served.
   */
  private readonly accounts = new LRUCache<string, string>({
    max: SESSION_CACHE_ENTRIES,
    ttl: SESSION_CACHE_TTL_MS,
  });

  constructor(private readonly feed: RevocationFeed) {}

  onModuleInit(): void {
    this.feed.onRevoked((ids) => this.forget(ids));
    // A changed record is read again from Redis; not caching it for a while spares a racing stale read.
    this.feed.onChanged((ids) => this.forget(ids));
    this.feed.onAccount((userId, generation) => this.accounts.set(userId, generation));
    this.feed.onLost(() => this.entries.clear());
  }

  get(sessionId: string): CachedSession | undefined {
    if (!this.feed.isListening) return undefined;
    const cached = this.entries.get(sessionId);
    if (!cached || this.isOfAnotherAccount(cached)) {
      if (cached) this.entries.delete(sessionId);
      return undefined;
    }
    return cached;
  }

  set(sessionId: string, session: CachedSession): void {
    if (!this.feed.isListening || this.revoked.has(sessionId)) return;
    if (!this.isOfAnotherAccount(session)) this.entries.set(sessionId, session);
  }

  /**
   * Announces, to every instance and before it answers, that `userId` now
   * belongs to the account of `generation`. Throws when Redis cannot take it.
   */
  async announceAccount(userId: string, generation: string): Promise<void> {
    this.accounts.set(userId, generation);
    await this.feed.announceAccount(userId, generation);
  }

  private isOfAnotherAccount({ record }: CachedSession): boolean {
    const generation = this.accounts.get(record.userId);
    return generation !== undefined && generation !== record.accountGeneration;
  }

  /** Forgets the sessions here, and returns once every other instance has too. */
  async revoke(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    this.forget(sessionIds);
    await this.feed.announce(sessionIds);
  }

  /** Drops changed sessions here, and returns once every other instance has too. */
  async refresh(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    this.forget(sessionIds);
    await this.feed.announceChanged(sessionIds);
  }

  private forget(sessionIds: string[]): void {
    for (const id of sessionIds) {
      this.entries.delete(id);
      this.revoked.set(id, true);
    }
  }

  onApplicationShutdown(): void {
    this.entries.clear();
  }
}
