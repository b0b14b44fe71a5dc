import type { FastifyRequest } from 'fastify';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cross-site request forgery defence for cookie sessions: an unsafe request
 * that a browser sent from another origin carries that origin in `Origin`.
 * Such a request is refused unless the origin is the request's own or listed
 * in ALLOWED_ORIGINS. Requests without `Origin` (not from a browser page) and
 * bearer-token requests are not affected.
 */
export function isForbiddenCrossOrigin(
  request: FastifyRequest,
  allowedOrigins: readonly string[],
): boolean {
  if (request.authenticatedVia !== 'cookie' || !UNSAFE_METHODS.has(request.method)) return false;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  if (allowedOrigins.includes(origin)) return false;
  const host = request.headers.host;
  return !host || origin !== `${request.protocol}://${host}`;
}
