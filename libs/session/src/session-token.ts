import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const RANDOM_ID = /^[A-Za-z0-9_-]{22}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const USER_ID = /^[1-9][0-9]{0,15}$/;

export interface ParsedToken {
  sessionId: string;
  userId: string;
  secret: string;
}

/**
 * Tokens are `<id>.<secret>`. The id is `<userId>-<128 random bits>`: public
 * (listed, forwarded as X-Session-Id) and carrying the user id so that all of a
 * user's session keys share one Redis Cluster slot. The secret is 256 random
 * bits; only its SHA-256 is stored.
 */
export function newSessionToken(userId: string): {
  token: string;
  sessionId: string;
  secretHash: string;
} {
  const sessionId = `${userId}-${randomBytes(16).toString('base64url')}`;
  const secret = randomBytes(32).toString('base64url');
  return { token: `${sessionId}.${secret}`, sessionId, secretHash: hashSecret(secret) };
}

export function parseSessionToken(token: string): ParsedToken | null {
  if (token.length > 128) return null;
  const dot = token.indexOf('.');
  if (dot < 0) return null;
  const sessionId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  const parsedId = parseSessionId(sessionId);
  if (!parsedId || !SECRET.test(secret)) return null;
  return { sessionId, userId: parsedId.userId, secret };
}

export function parseSessionId(sessionId: string): { userId: string } | null {
  const dash = sessionId.indexOf('-');
  if (dash < 0) return null;
  const userId = sessionId.slice(0, dash);
  return USER_ID.test(userId) && RANDOM_ID.test(sessionId.slice(dash + 1)) ? { userId } : null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** Constant-time comparison of two secret hashes. */
export function hashesMatch(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Constant-time comparison of a cached secret with a presented one. */
export function secretsMatch(cached: Buffer, presented: string): boolean {
  const candidate = Buffer.from(presented);
  return candidate.length === cached.length && timingSafeEqual(candidate, cached);
}
