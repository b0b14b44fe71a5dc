import { rateLimitHeaders, writeRateLimitHeaders } from './rate-limit.headers';
import type { RateLimitDecision } from './rate-limit.types';

const allowed: RateLimitDecision = {
  allowed: true,
  name: 'ip',
  limit: 600,
  windowSeconds: 60,
  remaining: 598,
  resetSeconds: 57,
  retryAfterSeconds: 0,
};

function written(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  writeRateLimitHeaders({ header: (name, value) => (headers[name] = value) }, decision);
  return headers;
}

describe('RateLimit headers (draft-ietf-httpapi-ratelimit-headers)', () => {
  it('describes the policy and the state of an admitted request', () => {
    expect(written(allowed)).toEqual({
      'RateLimit-Policy': '"ip";q=600;w=60',
      RateLimit: '"ip";r=598;t=57',
    });
  });

  it('adds Retry-After to a refusal', () => {
    const refused = {
      ...allowed,
      allowed: false,
      remaining: 0,
      resetSeconds: 12,
      retryAfterSeconds: 12,
    };
    expect(written(refused)).toEqual({
      'RateLimit-Policy': '"ip";q=600;w=60',
      RateLimit: '"ip";r=0;t=12',
      'Retry-After': '12',
    });
  });

  it('gives the same headers as an object, for callers without a reply', () => {
    expect(rateLimitHeaders(allowed)).toEqual({
      'RateLimit-Policy': '"ip";q=600;w=60',
      RateLimit: '"ip";r=598;t=57',
    });
  });
});
