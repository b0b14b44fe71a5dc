import type { RateLimitDecision } from './rate-limit.types';

/** Anything headers can be set on: a Fastify reply, or a collector. */
export interface HeaderTarget {
  header(name: string, value: string): unknown;
}

/**
 * Writes the fields of draft-ietf-httpapi-ratelimit-headers for one decision,
 * `RateLimit-Policy: "ip";q=600;w=60` and `RateLimit: "ip";r=598;t=57`, and
 * `Retry-After` when refused. Policy names are restricted to characters that
 * need no escaping in a structured-field string.
 */
export function writeRateLimitHeaders(reply: HeaderTarget, decision: RateLimitDecision): void {
  const name = `"${decision.name}"`;
  reply.header('RateLimit-Policy', `${name};q=${decision.limit};w=${decision.windowSeconds}`);
  reply.header('RateLimit', `${name};r=${decision.remaining};t=${decision.resetSeconds}`);
  if (!decision.allowed) reply.header('Retry-After', String(decision.retryAfterSeconds));
}

/** The same headers as an object, for a socket acknowledgement or a proxy. */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  writeRateLimitHeaders({ header: (name, value) => (headers[name] = value) }, decision);
  return headers;
}
