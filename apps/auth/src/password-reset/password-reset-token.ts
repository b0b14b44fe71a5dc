import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A reset token is `<userId>.<secret>`: 256 random bits, base64url. Only the
 * SHA-256 of the secret is stored (a random secret needs no slow hash); the
 * id says which account's key to look in.
 */
const TOKEN = /^([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{43})$/;

export function newResetToken(userId: string): { token: string; secretHash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `${userId}.${secret}`, secretHash: hashResetSecret(secret) };
}

export function parseResetToken(token: string): { userId: string; secret: string } | null {
  const match = TOKEN.exec(token);
  return match ? { userId: match[1], secret: match[2] } : null;
}

export function hashResetSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares two hex SHA-256 hashes in constant time. */
export function resetHashesMatch(stored: string, presented: string): boolean {
  const a = Buffer.from(stored, 'hex');
  const b = Buffer.from(presented, 'hex');
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}
