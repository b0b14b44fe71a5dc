import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '@lattice/session';
import type { ProxyRoute } from './route-table';

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

/**
 * The headers an upstream receives (reply-from has already set `host` to the
 * upstream's). Always: no client-made identity headers, the request id, and
 * X-Forwarded-For/-Proto/-Host as the gateway saw them (replaced, not
 * appended to, so an upstream that trusts them sees the address the gateway
 * decided on). Platform apps keep the original Host and the session
 * credentials (they check the session themselves). Other upstreams get the
 * caller's identity instead of the credentials: unless the route is
 * `auth: "none"`, the session cookie, and a bearer token that was the
 * session, are removed, and X-User-* and X-Session-Id are added for a
 * signed-in caller.
 */
export function upstreamHeaders(
  request: ForwardedRequest,
  route: ProxyRoute,
  headers: IncomingHttpHeaders,
): IncomingHttpHeaders {
  for (const name of IDENTITY_HEADERS) delete headers[name];
  const originalHost = request.headers.host;
  headers['x-request-id'] = request.id;
  headers['x-forwarded-for'] = request.ip;
  headers['x-forwarded-proto'] = request.protocol;
  if (originalHost) headers['x-forwarded-host'] = originalHost;

  if (route.auth === 'platform') {
    if (originalHost) headers.host = originalHost;
    return headers;
  }
  if (route.auth === 'none') return headers;

  if (headers.cookie) {
    const cookie = withoutSessionCookie(headers.cookie);
    if (cookie === undefined) delete headers.cookie;
    else headers.cookie = cookie;
  }
  if (request.authenticatedVia === 'bearer') delete headers.authorization;
  const user = request.user;
  const session = request.userSession;
  if (user && session) {
    headers['x-user-id'] = user.id;
    headers['x-user-login'] = user.login;
    headers['x-user-roles'] = user.roles.join(',');
    headers['x-session-id'] = session.id;
  }
  return headers;
}

/** Connection-level headers of an upstream's answer, which describe its connection, not ours. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection'];

/** An upstream's response headers as the client receives them. */
export function clientHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const name of HOP_BY_HOP) delete headers[name];
  return headers;
}
