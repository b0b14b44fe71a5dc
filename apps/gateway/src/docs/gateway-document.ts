import type { Type } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { buildOpenApiDocument } from '@lattice/http';
// Documentation-only imports of the other apps' controller lists (allowed by
// .dependency-cruiser.cjs for this folder alone): the gateway forwards /auth and
// /realtime to those apps unchanged, so their routes are public here too.
import { AUTH_CONTROLLERS } from '../../../auth/src/auth.openapi';
import { REALTIME_CONTROLLERS } from '../../../realtime/src/realtime.openapi';

/** Bump with package.json's version (a unit test compares them). */
export const API_VERSION = '0.1.0';

const DESCRIPTION = `The public HTTP interface of Lattice, as the gateway serves it: its own routes, and the routes of the auth and realtime apps, which it forwards at the same paths. Generated from the code of the three apps.

**Sessions.** Sign in with \`POST /auth/login\`, then present the session token as the \`sid\` cookie or as \`Authorization: Bearer <token>\`. A cookie-authenticated \`POST\`, \`PUT\`, \`PATCH\` or \`DELETE\` whose \`Origin\` is present and not allowed (\`ALLOWED_ORIGINS\`, or the request's own origin) gets 403 \`FORBIDDEN\`.

**Errors.** Every error answer has the body \`ErrorBody\`: \`{ statusCode, code, message, requestId }\`, plus \`details\` for validation errors. Anywhere: 400 \`MALFORMED_JSON\` for a body that is not JSON, 413 \`PAYLOAD_TOO_LARGE\` over 1 MiB, 415 for a body that is not \`application/json\`, 404 \`NOT_FOUND\` for an unknown route, 500 \`INTERNAL\` (which reveals nothing), 503 \`UNAVAILABLE\` while Redis is unreachable.

**Rate limits.** Every route but health and metrics is limited (\`RATE_LIMIT_IP\` per address, \`RATE_LIMIT_USER\` per signed-in user) and says so in the \`RateLimit-Policy\` and \`RateLimit\` headers; past the limit it answers 429 \`RATE_LIMITED\` with \`Retry-After\`.

**Request ids.** Every answer carries \`X-Request-Id\`: the request's own when it is 1 to 128 characters of \`A-Z a-z 0-9 . _ : -\`, a new UUID otherwise.

**Not here.** Socket.IO (\`/socket.io/\`: presence and channel messages) and the \`ROUTES\` upstreams are described in the platform contract.`;

const TAGS = [
  { name: 'accounts', description: 'Accounts and sessions (auth app)' },
  { name: 'admin', description: "Other users' sessions, for admins (auth app)" },
  { name: 'verification', description: 'Verification challenges (auth app)' },
  { name: 'presence', description: 'Who is in a realtime channel (gateway and realtime app)' },
  { name: 'cache-sync', description: 'Cache-sync events (gateway)' },
  { name: 'prize-draws', description: 'Prize draws and their pages (gateway)' },
  { name: 'rate-limits', description: 'Run-time rate-limit overrides, for admins (gateway)' },
  { name: 'gateway', description: 'The gateway itself' },
  { name: 'docs', description: 'This document and its page (gateway)' },
  { name: 'health', description: 'Liveness and readiness of the gateway instance' },
  { name: 'metrics', description: 'Prometheus metrics of the gateway instance' },
];

/**
 * The one OpenAPI document of the platform: `gatewayControllers` (those the
 * running gateway registers) and the auth and realtime apps' controllers, at
 * their public paths, which are the same through the gateway.
 */
export function buildGatewayDocument(gatewayControllers: readonly Type[]): OpenAPIObject {
  return buildOpenApiDocument({
    title: 'Lattice API',
    version: API_VERSION,
    description: DESCRIPTION,
    controllers: [...gatewayControllers, ...AUTH_CONTROLLERS, ...REALTIME_CONTROLLERS],
    tags: TAGS,
  });
}
