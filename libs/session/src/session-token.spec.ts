import {
  hashesMatch,
  hashSecret,
  newSessionToken,
  parseSessionId,
  parseSessionToken,
} from './session-token';

describe('session tokens', () => {
  it('are <id>.<secret> with a 128-bit random id part and a 256-bit secret', () => {
    const { token, sessionId, secretHash } = newSessionToken('42');
    const [id, secret] = token.split('.');
    expect(id).toBe(sessionId);
    expect(id).toMatch(/^42-[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id.slice(3), 'base64url')).toHaveLength(16);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(secretHash).toBe(hashSecret(secret));
    expect(secretHash).not.toContain(secret);
  });

  it('never repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newSessionToken('1').token));
    expect(tokens.size).toBe(1000);
  });

  it('parse back, and anything malformed parses to null', () => {
    const { token, sessionId } = newSessionToken('7');
    expect(parseSessionToken(token)).toEqual({
      sessionId,
      userId: '7',
      secret: token.split('.')[1],
    });
    for (const bad of [
      '',
      'abc',
      `${sessionId}`,
      `${sessionId}.`,
      `${sessionId}.short`,
      `x${token}`,
      `0-${token.slice(2)}`,
      `${token}x`,
      token + '.'.repeat(200),
    ]) {
      expect(parseSessionToken(bad)).toBeNull();
    }
    expect(parseSessionId(sessionId)).toEqual({ userId: '7' });
    expect(parseSessionId('7-tooshort')).toBeNull();
  });

  it('compare hashes in constant time, and only equal ones match', () => {
    const a = hashSecret('a');
    expect(hashesMatch(a, hashSecret('a'))).toBe(true);
    expect(hashesMatch(a, hashSecret('b'))).toBe(false);
    expect(hashesMatch(a, '')).toBe(false);
  });
});
