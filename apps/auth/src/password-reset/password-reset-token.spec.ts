import { createHash } from 'node:crypto';
import {
  hashResetSecret,
  newResetToken,
  parseResetToken,
  resetHashesMatch,
} from './password-reset-token';

describe('password reset tokens', () => {
  it('are the user id and 256 random bits, of which only the SHA-256 is kept', () => {
    const { token, secretHash } = newResetToken('42');
    const parsed = parseResetToken(token);
    expect(parsed?.userId).toBe('42');
    expect(Buffer.from(parsed!.secret, 'base64url')).toHaveLength(32);
    expect(secretHash).toBe(createHash('sha256').update(parsed!.secret).digest('hex'));
    expect(secretHash).not.toContain(parsed!.secret);
    expect(newResetToken('42').token).not.toBe(token);
  });

  it('refuses anything that is not one', () => {
    const { token } = newResetToken('7');
    const secret = token.split('.')[1];
    for (const bad of [
      '',
      secret,
      `0.${secret}`,
      `x.${secret}`,
      `7.${secret}A`,
      `7.${secret.slice(1)}`,
      `7.${secret.slice(1)}+`,
      `7.${secret}.7`,
    ]) {
      expect(parseResetToken(bad)).toBeNull();
    }
  });

  it('compares hashes whole, never a prefix or an empty one', () => {
    const hash = hashResetSecret('secret');
    expect(resetHashesMatch(hash, hashResetSecret('secret'))).toBe(true);
    expect(resetHashesMatch(hash, hashResetSecret('other'))).toBe(false);
    expect(resetHashesMatch(hash, hash.slice(0, 32))).toBe(false);
    expect(resetHashesMatch('', '')).toBe(false);
  });
});
