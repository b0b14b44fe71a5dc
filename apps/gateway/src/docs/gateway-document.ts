import type { ApiDocumentInfo } from '@lattice/http';

const DESCRIPTION = `The public HTTP interface of Lattice, as the gateway serves it: its own routes, and the routes of the auth and realtime apps, which it forwards at the same paths. Generated from the code of the three apps.

**Sessions.** Sign in with \`POST /auth/login\`, then present the session token as the \`sid\` cookie or as \`Authorization: Bearer <token>\`. A cookie-authenticated \`POST\`, \`PUT\`, \`PATCH\` or \`DELETE\` whose \`Origin\` is present and not allowed (\`ALLOWED_ORIGINS\`, or the request's own origin) gets 403 \`FORBIDDEN\`.

**Errors.** Every error answer has the body \`ErrorBody\`: \`{ statusCode, code, message, requestId }\`, plus \`details\` for validation errors. Anywhere: 400 \`MALFORMED_JSON\` for a body that is not JSON, 413 \`PAYLOAD_TOO_LARGE\` over 1 MiB, 415 for a body that is not \`application/json\`, 404 \`NOT_FOUND\` for an unknown route, 500 \`INTERNAL\` (which reveals nothing), 503 \`UNAVAILABLE\` while Redis is unreachable.

**Rate limits.** Every route but health and metrics is limited (\`RATE_LIMIT_IP\` per address, \`RATE_LIMIT_USER\` per signed-in user) and says so in the \`RateLimit-Policy\` and \`RateLimit\` headers; past the limit it answers 429 \`RATE_LIMITED\` with \`Retry-After\`.

**Request ids.** Every answer carries \`X-Request-Id\`: the request's own when it is 1 to 128 characters of \`A-Z a-z 0-9 . _ : -\`, a new UUID otherwise.

**Not here.** Socket.IO (\`/socket.io/\`: presence and channel messages) and the \`ROUTES\` upstreams are described in the platform contract.`;

const TAGS = [
  { name: 'presence', description: 'Who is in a realtime channel (gateway and realtime app)' },
  { name: 'cache-sync', description: 'Cache-sync events (gateway)' },
  { name: 'prize-draws', description: 'Prize draws and their pages (gateway)' },
  { name: 'rate-limits', description: 'Run-time rate-limit overrides, for admins (gateway)' },
  { name: 'gateway', description: 'The gateway itself' },
];

/**
 * The gateway's own document: its routes, and the description of the whole
 * platform, into which PlatformDocument merges the auth and realtime apps'.
 */
export const GATEWAY_DOCUMENT: ApiDocumentInfo = {
  title: 'Lattice API',
  description: DESCRIPTION,
  tags: TAGS,
};
