import { counterKey, ValidatedPolicies, validatePolicy } from './rate-limit.policy';

describe('rate-limit policies', () => {
  it.each([
    [{ name: 'has space', limit: 1, windowSeconds: 1 }, /name/],
    [{ name: 'x'.repeat(65), limit: 1, windowSeconds: 1 }, /name/],
    [{ name: 'ip', limit: 0, windowSeconds: 1 }, /limit/],
    [{ name: 'ip', limit: 1.5, windowSeconds: 1 }, /limit/],
    [{ name: 'ip', limit: 1, windowSeconds: 0 }, /window/],
    [{ name: 'ip', limit: 1, windowSeconds: 0.5 }, /window/],
  ])('refuses %j', (policy, message) => {
    expect(() => validatePolicy(policy)).toThrow(message);
  });

  it('checks a remembered policy again when any of its values changes', () => {
    const policies = new ValidatedPolicies();
    const valid = { name: 'ip', key: 'ip:1', limit: 5, windowSeconds: 60 };
    policies.check(valid);
    policies.check({ ...valid, key: 'ip:2' });
    expect(() => policies.check({ ...valid, limit: 0 })).toThrow(/limit/);
    expect(() => policies.check({ ...valid, windowSeconds: 0.5 })).toThrow(/window/);
    expect(() => policies.check({ ...valid, algorithm: 'fuzzy' as unknown as 'exact' })).toThrow(
      /algorithm/,
    );
    // A refused policy is not remembered: the valid one still passes, the invalid one still fails.
    policies.check(valid);
    expect(() => policies.check({ ...valid, limit: 1.5 })).toThrow(/limit/);
  });

  it('keys counters by algorithm, policy and key, hashing over-long keys', () => {
    const base = { name: 'login', limit: 10, windowSeconds: 300 };
    expect(counterKey({ ...base, key: '203.0.113.9:alice' })).toBe(
      'ratelimit:log:login:203.0.113.9:alice',
    );
    expect(counterKey({ ...base, key: 'k', algorithm: 'approximate' })).toBe(
      'ratelimit:buckets:login:k',
    );
    const long = counterKey({ ...base, key: 'x'.repeat(500) });
    expect(long).toMatch(/^ratelimit:log:login:sha256:[0-9a-f]{64}$/);
    expect(counterKey({ ...base, key: 'x'.repeat(501) })).not.toBe(long);
  });
});
