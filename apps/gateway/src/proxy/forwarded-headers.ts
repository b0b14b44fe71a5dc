import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '@lattice/session';
import type { ProxyRoute } from './route.table';

/** Identity headers only the gateway may set: whatever a client sends under these names is dropped. */
export const IDENTITY_HEADERS = ['x-user-id', 'x-user-login', 'x-user-roles', 'x-session-id'];

/** What of a request the forwarded headers depend on. */
export type ForwardedRequest = Pick<
  FastifyRequest,
  'headers' | 'id' | 'ip' | 'protocol' | 'user' | 'userSession' | 'authenticatedVia'
>;

/** The Cookie header without the session cookie, or undefined when nothing else is left. */
export function withoutSessionCookie(cookie: string): string | undefined {
  const kept = cookie
    .split(';')
    .filter((part) => {
      const eq = part.indexOf('=');
      return (eq === -1 ? part : part.slice(0, eq)).trim() !== SESSION_COOKIE;
    })
    .join(';')
    .trim();
  return kept || undefined;
}

/** Client headers an upstream never receives as sent: the gateway sets these itself. */
const SET_BY_THE_GATEWAY = new Set([
  ...IDENTITY_HEADERS,
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  // The trace context: the gateway's own (its span, which continues the client's
  // only with TRACE_TRUST_CLIENT=true) is added as the request leaves.
  'traceparent',
  'tracestate',
]);

/**
 * Whether a client's header name stands for one the gateway sets. CGI-style
 * servers (and the frameworks on them) read `X_User_Id` as `X-User-Id`, so a
 * name counts with its underscores read as dashes, in any case.
 */
function isSetByTheGateway(name: string): boolean {
  if (SET_BY_THE_GATEWAY.has(name)) return true;
  return name.includes('_') && SET_BY_THE_GATEWAY.has(name.toLowerCase().replace(/_/g, '-'));
}

/**
 * The headers an upstream receives (reply-from has already set `host` to the
 * upstream's). Always: no client-made identity headers (nor their spellings
 * with underscores, see isSetByTheGateway), the request id, and
 * X-Forwarded-For/-Proto/-Host as the gateway saw them (replaced, not
 * appended to, so an upstream that trusts them sees the address the gateway
 * decided on). Platform apps keep the original Host and the session
 * credentials (they check the session themselves). Other upstreams get the
 * caller's identity instead of the credentials: unless the route is
 * `auth: "none"`, the session cookie, and a bearer token that was the
 * session, are removed, and X-User-* and X-Session-Id are added for a
 * signed-in caller.
 *
 * It returns a new object rather than deleting from `headers`: V8 turns an
 * object with deleted properties into a slow dictionary, which every later
 * copy of the headers (reply-from's, undici's) pays for on each request.
 */
export function upstreamHeaders(
  request: ForwardedRequest,
  route: Pick<ProxyRoute, 'auth'>,
  headers: IncomingHttpHeaders,
): IncomingHttpHeaders {
  const keepsCredentials = route.auth === 'platform' || route.auth === 'none';
  const dropsAuthorization = !keepsCredentials && request.authenticatedVia === 'bearer';
  const forwarded: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (isSetByTheGateway(name)) continue;
    if (name === 'authorization' && dropsAuthorization) continue;
    if (name === 'cookie' && !keepsCredentials) {
      const cookie = headers.cookie && withoutSessionCookie(headers.cookie);
      if (cookie) forwarded.cookie = cookie;
      continue;
    }
    forwarded[name] = headers[name];
  }
  const originalHost = request.headers.host;
  if (route.auth === 'platform' && originalHost) forwarded.host = originalHost;
  forwarded['x-request-id'] = request.id;
  forwarded['x-forwarded-for'] = request.ip;
  forwarded['x-forwarded-proto'] = request.protocol;
  if (originalHost) forwarded['x-forwarded-host'] = originalHost;

  const user = request.user;
  const session = request.userSession;
  if (!keepsCredentials && user && session) {
    forwarded['x-user-id'] = user.id;
    forwarded['x-user-login'] = user.login;
    forwarded['x-user-roles'] = user.roles.join(',');
    forwarded['x-session-id'] = session.id;
  }
  return forwarded;
}

/** Connection-level headers of an upstream's answer, which describe its connection, not ours. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection']);

/** An upstream's response headers as the client receives them (a new object, as above). */
export function clientHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) kept[name] = headers[name];
  return kept;
}
