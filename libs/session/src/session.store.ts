import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { ConfigService, type SessionConfig } from '@lattice/config';
import { RedisService, type RedisScript } from '@lattice/redis';
import { accountKey, ACCOUNT_GENERATION_FIELD, sessionIndexKey, sessionKey } from './session-keys';
import { newSessionToken, parseSessionId } from './session-token';
import type { SessionMeta, SessionRecord, SessionUser } from './session.types';

/**
 * "Last seen" (and with it the idle expiry) is written at most once a minute
 * per session; with an idle TTL under two minutes, twice per idle TTL instead,
 * so that a session in use never expires as idle.
 */
export function touchIntervalMs(idleTtlSeconds: number): number {
  return Math.min(60_000, (idleTtlSeconds * 1000) / 2);
}
const MAX_USER_AGENT = 256;

export interface StoredSession {
  record: SessionRecord;
  secretHash: string;
}

function toRecord(flat: string[]): StoredSession | null {
  if (flat.length === 0) return null;
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  if (!h.secretHash || !h.userId) return null;
  return {
    secretHash: h.secretHash,
    record: {
      id: h.id,
      userId: h.userId,
      login: h.login,
      roles: h.roles ? h.roles.split(',') : [],
      accountGeneration: h.gen ?? '',
      createdAt: Number(h.createdAt),
      lastSeenAt: Number(h.lastSeenAt),
      expiresAt: Number(h.expiresAt),
      ip: h.ip ?? '',
      userAgent: h.userAgent ?? '',
    },
  };
}

/** Sessions in Redis: the hash per session and the per-user index, all with TTLs. */
@Injectable()
export class SessionStore {
  private readonly ttl: SessionConfig;
  readonly touchIntervalMs: number;
  private readonly createScript: RedisScript<number>;
  private readonly readScript: RedisScript<string[]>;
  private readonly setRolesScript: RedisScript<number>;

  constructor(
    private readonly redis: RedisService,
    config: ConfigService,
  ) {
    this.ttl = config.get('session');
    this.touchIntervalMs = touchIntervalMs(this.ttl.idleTtlSeconds);
    this.createScript = redis.script(join(__dirname, 'session-create.lua'), 2);
    this.readScript = redis.script(join(__dirname, 'session-read.lua'), 1);
    this.setRolesScript = redis.script(join(__dirname, 'session-roles-set.lua'), 1);
  }

  async create(
    user: SessionUser,
    meta: SessionMeta,
    accountGeneration: string,
  ): Promise<{ token: string; record: SessionRecord }> {
    const { token, sessionId, secretHash } = newSessionToken(user.id);
    const now = Date.now();
    const record: SessionRecord = {
      id: sessionId,
      userId: user.id,
      login: user.login,
      roles: user.roles,
      accountGeneration,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.ttl.absoluteTtlSeconds * 1000,
      ip: meta.ip,
      userAgent: meta.userAgent.slice(0, MAX_USER_AGENT),
    };
    const { accountGeneration: gen, ...rest } = record;
    const fields = Object.entries({
      ...rest,
      roles: record.roles.join(','),
      gen,
      secretHash,
    }).flatMap(([field, value]) => [field, String(value)]);
    await this.createScript.run(
      [sessionKey(user.id, sessionId), sessionIndexKey(user.id)],
      [sessionId, now, this.ttl.idleTtlSeconds * 1000, record.expiresAt, ...fields],
    );
    return { token, record };
  }

  /**
   * The session (or null) and, when due, a "last seen" touch, with the
   * generation of the account now at its user id read beside it (another
   * slot on a cluster, so a second command sent at the same time): a session
   * of another generation is refused.
   */
  async read(
    userId: string,
    sessionId: string,
    presentedHash: string,
  ): Promise<StoredSession | null> {
    const [flat, generation] = await Promise.all([
      this.readScript.run(
        [sessionKey(userId, sessionId)],
        [presentedHash, Date.now(), this.touchIntervalMs, this.ttl.idleTtlSeconds * 1000],
      ),
      this.accountGeneration(userId),
    ]);
    const stored = toRecord(flat);
    return stored && stored.record.accountGeneration === generation ? stored : null;
  }

  /** The generation of the account at this user id: empty when it has none or does not exist. */
  async accountGeneration(userId: string): Promise<string> {
    return (await this.redis.client.hget(accountKey(userId), ACCOUNT_GENERATION_FIELD)) ?? '';
  }

  /**
   * The user's live sessions, oldest first; index entries of ended sessions
   * are dropped, and sessions of an earlier account at this id left out.
   */
  async list(userId: string): Promise<SessionRecord[]> {
    const index = sessionIndexKey(userId);
    const [ids, generation] = await Promise.all([
      this.redis.client.zrangebyscore(index, String(Date.now()), '+inf'),
      this.accountGeneration(userId),
    ]);
    if (ids.length === 0) return [];
    const pipeline = this.redis.client.pipeline();
    for (const id of ids) pipeline.hgetall(sessionKey(userId, id));
    const results = (await pipeline.exec()) ?? [];
    const live: SessionRecord[] = [];
    const gone: string[] = [];
    results.forEach(([error, hash], i) => {
      const fields = hash as Record<string, string> | null;
      if (error || !fields || !fields.secretHash) gone.push(ids[i]);
      else live.push(toRecord(Object.entries(fields).flat())!.record);
    });
    if (gone.length) await this.redis.client.zrem(index, ...gone);
    return live
      .filter((session) => session.accountGeneration === generation)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Ends one session; false when it did not exist (any more). */
  async revoke(sessionId: string): Promise<boolean> {
    const parsed = parseSessionId(sessionId);
    if (!parsed) return false;
    const [[, deleted]] = (await this.redis.client
      .multi()
      .del(sessionKey(parsed.userId, sessionId))
      .zrem(sessionIndexKey(parsed.userId), sessionId)
      .exec()) as [[Error | null, number], [Error | null, number]];
    return deleted === 1;
  }

  /**
   * Writes `roles` into every live session of the user (a script per
   * session, which never brings an ended one back); returns the ids written. A session opened after the index
   * was read is not written: a login re-reads the roles after opening its
   * session (see the auth app's AccountsService.confirmLogin).
   */
  async setRoles(userId: string, roles: string[]): Promise<string[]> {
    const index = sessionIndexKey(userId);
    const ids = await this.redis.client.zrange(index, '0', '-1');
    if (ids.length === 0) return [];
    const written = await Promise.all(
      ids.map((id) => this.setRolesScript.run([sessionKey(userId, id)], [roles.join(',')])),
    );
    return ids.filter((_id, i) => written[i] === 1);
  }

  /** Ends every session of the user but `keep`; returns the ids ended. */
  async revokeAll(userId: string, keep?: string): Promise<string[]> {
    const index = sessionIndexKey(userId);
    const ids = (await this.redis.client.zrange(index, '0', '-1')).filter((id) => id !== keep);
    if (ids.length === 0) return [];
    await this.redis.client
      .multi()
      .del(...ids.map((id) => sessionKey(userId, id)))
      .zrem(index, ...ids)
      .exec();
    return ids;
  }
}
