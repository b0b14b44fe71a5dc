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

function written(...decisions: RateLimitDecision[]): Record<string, string> {
  const headers: Record<string, string> = {};
  writeRateLimitHeaders({ header: (name, value) => (headers[name] = value) }, ...decisions);
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

  it('lists every policy that applied, and waits for the one that refused', () => {
    const route: RateLimitDecision = {
      allowed: false,
      name: 'route.orders',
      limit: 10,
      windowSeconds: 60,
      remaining: 0,
      resetSeconds: 41,
      retryAfterSeconds: 41,
    };
    expect(written(allowed, route)).toEqual({
      'RateLimit-Policy': '"ip";q=600;w=60, "route.orders";q=10;w=60',
      RateLimit: '"ip";r=598;t=57, "route.orders";r=0;t=41',
      'Retry-After': '41',
    });
  });

  it('gives the same headers as an object, for callers without a reply', () => {
    expect(rateLimitHeaders(allowed)).toEqual({
      'RateLimit-Policy': '"ip";q=600;w=60',
      RateLimit: '"ip";r=598;t=57',
    });
  });
});
