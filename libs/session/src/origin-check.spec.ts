import type { FastifyRequest } from 'fastify';
import { isForbiddenCrossOrigin } from './origin-check';

const request = (over: Partial<FastifyRequest> & { origin?: string }): FastifyRequest =>
  ({
    method: 'POST',
    protocol: 'http',
    authenticatedVia: 'cookie',
    ...over,
    headers: { host: 'app.example.com', ...(over.origin ? { origin: over.origin } : {}) },
  }) as unknown as FastifyRequest;

describe('isForbiddenCrossOrigin', () => {
  const allowed = ['https://admin.example.com'];

  it('refuses a cookie-authenticated unsafe request from a foreign origin', () => {
    expect(isForbiddenCrossOrigin(request({ origin: 'https://evil.example' }), allowed)).toBe(true);
    expect(
      isForbiddenCrossOrigin(
        request({ method: 'DELETE', origin: 'https://evil.example' }),
        allowed,
      ),
    ).toBe(true);
  });

  it('lets through the request’s own origin, listed origins, and requests without Origin', () => {
    expect(isForbiddenCrossOrigin(request({ origin: 'http://app.example.com' }), allowed)).toBe(
      false,
    );
    expect(isForbiddenCrossOrigin(request({ origin: 'https://admin.example.com' }), allowed)).toBe(
      false,
    );
    expect(isForbiddenCrossOrigin(request({}), allowed)).toBe(false);
  });

  it('does not apply to safe methods or bearer tokens', () => {
    expect(
      isForbiddenCrossOrigin(request({ method: 'GET', origin: 'https://evil.example' }), allowed),
    ).toBe(false);
    expect(
      isForbiddenCrossOrigin(
        request({ authenticatedVia: 'bearer', origin: 'https://evil.example' }),
        allowed,
      ),
    ).toBe(false);
  });
});
