import type { RateLimitDecision } from './rate-limit.types';

/** Anything headers can be set on: a Fastify reply, or a collector. */
export interface HeaderTarget {
  header(name: string, value: string): unknown;
}

/**
 * Writes the fields of draft-ietf-httpapi-ratelimit-headers for the decisions
 * that applied to a request, `RateLimit-Policy: "ip";q=600;w=60` and
 * `RateLimit: "ip";r=598;t=57` (several policies as a list), and
 * `Retry-After` when one refused. Policy names are restricted to characters
 * that need no escaping in a structured-field string.
 */
export function writeRateLimitHeaders(
  reply: HeaderTarget,
  ...decisions: RateLimitDecision[]
): void {
  let policy = '';
  let state = '';
  let retryAfter = 0;
  for (const decision of decisions) {
    const name = `"${decision.name}"`;
    const separator = policy ? ', ' : '';
    policy += `${separator}${name};q=${decision.limit};w=${decision.windowSeconds}`;
    state += `${separator}${name};r=${decision.remaining};t=${decision.resetSeconds}`;
    if (!decision.allowed) retryAfter = Math.max(retryAfter, decision.retryAfterSeconds);
  }
  reply.header('RateLimit-Policy', policy);
  reply.header('RateLimit', state);
  if (retryAfter > 0) reply.header('Retry-After', String(retryAfter));
}

/** The same headers as an object, for a socket acknowledgement or a proxy. */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  writeRateLimitHeaders({ header: (name, value) => (headers[name] = value) }, decision);
  return headers;
}
