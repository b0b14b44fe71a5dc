import { Injectable } from '@nestjs/common';
import { UnavailableError } from '@lattice/common';
import { SessionCache } from './session.cache';
import { SessionStore, type StoredSession } from './session.store';
import { hashesMatch, hashSecret, parseSessionToken, secretsMatch } from './session-token';
import type { SessionMeta, SessionRecord, SessionUser } from './session.types';
import { traced } from '@lattice/observability';

/** Creates, checks and ends sessions; what routes and sockets use. */
@Injectable()
export class SessionService {
  constructor(
    private readonly store: SessionStore,
    private readonly cache: SessionCache,
  ) {}

  /**
   * Opens a session for the account of `accountGeneration` (the `gen` of its
   * `user:<id>`; empty for an account without one).
   */
  create(
    user: SessionUser,
    meta: SessionMeta,
    accountGeneration = '',
  ): Promise<{ token: string; record: SessionRecord }> {
    return this.store.create(user, meta, accountGeneration);
  }

  /**
   * Before a user id is given to a new account: every instance, this one
   * included, refuses from now on the sessions of that id opened for any
   * other generation, cached or not. Throws when Redis cannot take it.
   */
  announceAccount(userId: string, generation: string): Promise<void> {
    return this.cache.announceAccount(userId, generation);
  }

  /**
   * The session a token stands for, from the in-process cache alone: a record,
   * null when the token is refused, undefined when Redis must be asked. No
   * hashing on this path: a cached session keeps its secret to compare with.
   */
  peek(token: string): SessionRecord | null | undefined {
    const dot = token.indexOf('.');
    if (dot < 0) return null;
    // A cached id was fully validated when first seen: a lookup is all the parsing needed.
    const cached = this.cache.get(token.slice(0, dot));
    if (!cached) return parseSessionToken(token) ? undefined : null;
    const now = Date.now();
    if (now - cached.record.lastSeenAt >= this.store.touchIntervalMs) return undefined;
    if (!secretsMatch(cached.secret, token.slice(dot + 1))) return null;
    return now < cached.record.expiresAt ? cached.record : null;
  }

  /**
   * The session a token stands for, or null for a malformed, unknown, wrong or
   * ended one: from the in-process cache when it can be, otherwise with one
   * Redis round trip. Throws UnavailableError when Redis cannot answer.
   */
  async authenticate(token: string): Promise<SessionRecord | null> {
    const fromCache = this.peek(token);
    if (fromCache !== undefined) return fromCache;
    const parsed = parseSessionToken(token)!;
    const presented = hashSecret(parsed.secret);
    const now = Date.now();
    let stored: StoredSession | null;
    try {
      stored = await traced('session.read', { 'lattice.user_id': parsed.userId }, () =>
        this.store.read(parsed.userId, parsed.sessionId, presented),
      );
    } catch {
      throw new UnavailableError('Sessions cannot be checked right now; try again shortly');
    }
    if (!stored || !hashesMatch(stored.secretHash, presented) || now >= stored.record.expiresAt) {
      return null;
    }
    // The read just touched the session when it was due.
    const due = now - stored.record.lastSeenAt >= this.store.touchIntervalMs;
    const record = { ...stored.record, lastSeenAt: due ? now : stored.record.lastSeenAt };
    this.cache.set(parsed.sessionId, { record, secret: Buffer.from(parsed.secret) });
    return record;
  }

  list(userId: string): Promise<SessionRecord[]> {
    return this.store.list(userId);
  }

  /** Ends one session everywhere; false when it was not there. */
  async revoke(sessionId: string): Promise<boolean> {
    const revoked = await this.store.revoke(sessionId);
    await this.cache.revoke([sessionId]);
    return revoked;
  }

  /**
   * Gives every live session of the user these roles, and returns once every
   * instance has dropped them from its cache (the next request reads them
   * anew). The sessions, and their sockets, live on.
   */
  async setRoles(userId: string, roles: string[]): Promise<void> {
    const ids = await this.store.setRoles(userId, roles);
    await this.cache.refresh(ids);
  }

  /** Ends every session of a user (but `keep`) everywhere; returns how many ended. */
  async revokeAll(userId: string, keep?: string): Promise<number> {
    const ids = await this.store.revokeAll(userId, keep);
    await this.cache.revoke(ids);
    return ids.length;
  }
}
