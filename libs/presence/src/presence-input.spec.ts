import {
  CHANNEL_NAME,
  channelNameSchema,
  isJsonValue,
  mayAccessChannel,
  metaSchema,
  userChannelOwner,
} from './presence-input';

describe('presence input rules', () => {
  it('accepts channel names of 1 to 100 characters of a-z A-Z 0-9 : _ . -', () => {
    for (const name of ['a', 'lobby', 'user:42', 'draw.spring-2025_A', 'x'.repeat(100)]) {
      expect(CHANNEL_NAME.test(name)).toBe(true);
    }
    for (const name of ['', 'x'.repeat(101), 'has space', 'a/b', '{tag}', 'é', 'a*', 'line\n']) {
      expect(channelNameSchema.safeParse(name).success).toBe(false);
    }
  });

  it('takes as meta only a plain JSON object of at most 1 KiB', () => {
    expect(metaSchema.safeParse({}).success).toBe(true);
    expect(metaSchema.safeParse({ status: 'away', n: 1, list: [null, true] }).success).toBe(true);
    expect(metaSchema.safeParse({ text: 'x'.repeat(1000) }).success).toBe(true);
    expect(metaSchema.safeParse({ text: 'x'.repeat(1020) }).success).toBe(false);
    // Size is counted in bytes of JSON text, not in characters.
    expect(metaSchema.safeParse({ text: 'é'.repeat(600) }).success).toBe(false);
    for (const meta of [
      null,
      [],
      'text',
      3,
      { blob: Buffer.from('x') },
      { when: new Date() },
      { n: NaN },
    ]) {
      expect(metaSchema.safeParse(meta).success).toBe(false);
    }
  });

  it('refuses values JSON would silently change, and absurd nesting', () => {
    expect(isJsonValue({ a: [1, { b: 'c' }] })).toBe(true);
    expect(isJsonValue({ f: () => 1 })).toBe(false);
    expect(isJsonValue({ u: undefined })).toBe(false);
    expect(isJsonValue(new Map())).toBe(false);
    expect(isJsonValue(Infinity)).toBe(false);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(isJsonValue(deep)).toBe(false);
  });

  it('gives user:<id> channels to their user only', () => {
    expect(userChannelOwner('user:42')).toBe('42');
    expect(userChannelOwner('users:42')).toBeNull();
    expect(userChannelOwner('lobby')).toBeNull();
    expect(mayAccessChannel('user:42', '42')).toBe(true);
    expect(mayAccessChannel('user:42', '4')).toBe(false);
    expect(mayAccessChannel('user:', '4')).toBe(false);
    expect(mayAccessChannel('lobby', '4')).toBe(true);
  });
});
