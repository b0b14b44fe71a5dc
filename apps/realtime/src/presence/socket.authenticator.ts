import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ForbiddenError, UnauthenticatedError, type LatticeError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import { SESSION_COOKIE, SessionService, UserProfileReader } from '@lattice/session';
import type { ConnectionUser } from './realtime.connection';

type Handshake = Socket['handshake'];
type Presented = { token: string; via: 'auth' | 'bearer' | 'cookie' };

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** The session token of a handshake: `auth: { token }`, a bearer header, or the `sid` cookie. */
export function handshakeToken(handshake: Handshake): Presented | null {
  const auth = handshake.auth as { token?: unknown } | undefined;
  if (typeof auth?.token === 'string' && auth.token) return { token: auth.token, via: 'auth' };
  const authorization = handshake.headers.authorization;
  if (authorization?.startsWith('Bearer ') && authorization.slice(7).trim()) {
    return { token: authorization.slice(7).trim(), via: 'bearer' };
  }
  const cookie = cookieValue(handshake.headers.cookie, SESSION_COOKIE);
  return cookie ? { token: cookie, via: 'cookie' } : null;
}

/**
 * Cross-site WebSocket hijacking defence, as for cookie-authenticated unsafe
 * HTTP requests: a browser page of another origin could open a socket that
 * carries the user's cookie, so a cookie handshake from a foreign `Origin`
 * (neither the request's own host nor in ALLOWED_ORIGINS) is refused.
 */
export function isForeignOrigin(handshake: Handshake, allowedOrigins: readonly string[]): boolean {
  const origin = handshake.headers.origin;
  if (origin === undefined || allowedOrigins.includes(origin)) return false;
  const host = handshake.headers.host;
  try {
    return !host || new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** Turns a refusal into the `connect_error` a client sees: its message is the stable code. */
export function connectError(
  error: LatticeError,
): Error & { data: { code: string; message: string } } {
  const refusal = new Error(error.code) as Error & { data: { code: string; message: string } };
  refusal.data = { code: error.code, message: error.message };
  return refusal;
}

/**
 * Settles who a handshake speaks for, with the session lib, and reads the
 * user's display name once for the life of the connection.
 */
@Injectable()
export class SocketAuthenticator {
  private readonly allowedOrigins: string[];

  constructor(
    private readonly sessions: SessionService,
    private readonly profiles: UserProfileReader,
    config: ConfigService,
  ) {
    this.allowedOrigins = config.get('http').allowedOrigins;
  }

  /** The connection's user; throws UNAUTHENTICATED, FORBIDDEN or UNAVAILABLE. */
  async authenticate(handshake: Handshake): Promise<ConnectionUser> {
    const presented = handshakeToken(handshake);
    if (!presented) throw new UnauthenticatedError('Present a session token to connect');
    if (presented.via === 'cookie' && isForeignOrigin(handshake, this.allowedOrigins)) {
      throw new ForbiddenError(
        'Connections with a session cookie are not allowed from this origin',
      );
    }
    const session = await this.sessions.authenticate(presented.token);
    if (!session) throw new UnauthenticatedError('The session is not valid; sign in again');
    return {
      userId: session.userId,
      login: session.login,
      name: await this.profiles.displayName(session.userId, session.login),
      sessionId: session.id,
      token: presented.token,
    };
  }
}
