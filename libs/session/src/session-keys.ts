/**
 * Key layout. Both keys of a user carry the hash tag `{<userId>}`, so a user's
 * sessions and their index live in one Redis Cluster slot and change together.
 *
 *   session:{<userId>}:<sessionId>  hash  userId, login, roles, secretHash, createdAt,
 *                                         lastSeenAt, expiresAt, ip, userAgent
 *   sessions:{<userId>}             zset  sessionId → expiresAt (ms)
 */
export const sessionKey = (userId: string, sessionId: string): string =>
  `session:{${userId}}:${sessionId}`;

export const sessionIndexKey = (userId: string): string => `sessions:{${userId}}`;

/** Channel on which revoked session ids are announced to every instance. */
export const REVOKED_CHANNEL = 'session:revoked';
