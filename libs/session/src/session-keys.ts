/**
 * Key layout. Both keys of a user carry the hash tag `{<userId>}`, so a user's
 * sessions and their index live in one Redis Cluster slot and change together.
 *
 *   session:{<userId>}:<sessionId>  hash  userId, login, roles, gen, secretHash, createdAt,
 *                                         lastSeenAt, expiresAt, ip, userAgent
 *   sessions:{<userId>}             zset  sessionId → expiresAt (ms)
 *
 * `gen` is the generation of the account the session was opened for: a
 * session is valid only while the account at `user:<userId>` has that same
 * generation, so an id handed out again (Redis lost data) never inherits
 * the sessions of the account that had it before.
 */
export const sessionKey = (userId: string, sessionId: string): string =>
  `session:{${userId}}:${sessionId}`;

export const sessionIndexKey = (userId: string): string => `sessions:{${userId}}`;

/** Channel on which revoked session ids are announced to every instance. */
export const REVOKED_CHANNEL = 'session:revoked';

/**
 * The account's hash (CONTRACT 7, owned by the auth app). Sessions read only
 * its `login` (does the account exist) and `gen` (is it the account the
 * session was opened for).
 */
export const accountKey = (userId: string): string => `user:${userId}`;
export const ACCOUNT_GENERATION_FIELD = 'gen';
