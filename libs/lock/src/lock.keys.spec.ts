import { doneKey, lockKeys, MAX_RESOURCES } from './lock.keys';

describe('lock keys', () => {
  it('puts the lease and the fence counter of a resource under one hash tag', () => {
    expect(lockKeys('lock', 'user:alice')).toEqual({
      resources: ['user:alice'],
      leases: ['lock:{user:alice}'],
      fences: ['lock:{user:alice}:fence'],
      pairs: ['lock:{user:alice}', 'lock:{user:alice}:fence'],
    });
    expect(doneKey(lockKeys('runonce', 'seed'))).toBe('runonce:{seed}:done');
  });

  it('sorts and de-duplicates resources, so every caller takes them in one order', () => {
    expect(lockKeys('lock', ['b', 'a', 'b']).resources).toEqual(['a', 'b']);
  });

  it('escapes braces and percent signs, keeping distinct names distinct', () => {
    const keys = ['a}b', 'a%7Db', '{x'].map((r) => lockKeys('lock', r).leases[0]);
    expect(keys).toEqual(['lock:{a%7Db}', 'lock:{a%257Db}', 'lock:{%7Bx}']);
  });

  it('refuses an empty lock, an empty name and too many resources', () => {
    expect(() => lockKeys('lock', [])).toThrow('at least one resource');
    expect(() => lockKeys('lock', '')).toThrow('non-empty string');
    const many = Array.from({ length: MAX_RESOURCES + 1 }, (_, i) => `r${i}`);
    expect(() => lockKeys('lock', many)).toThrow(`at most ${MAX_RESOURCES} resources`);
  });
});
