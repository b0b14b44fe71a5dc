/** Who a request speaks for, as every app sees it once the session is checked. */
export interface SessionUser {
  id: string;
  login: string;
  roles: string[];
}

/** A session as stored and as listed (never with its secret). */
export interface SessionRecord {
  id: string;
  userId: string;
  login: string;
  roles: string[];
  /**
   * The generation of the account the session was opened for (`gen` of
   * `user:<userId>`), empty for an account that has none: the session is
   * valid only while the account at that id has the same generation.
   */
  accountGeneration: string;
  createdAt: number;
  lastSeenAt: number;
  /** When the session ends at the latest (SESSION_ABSOLUTE_TTL after creation). */
  expiresAt: number;
  ip: string;
  userAgent: string;
}

export interface SessionMeta {
  ip: string;
  userAgent: string;
}

export type AuthenticatedVia = 'cookie' | 'bearer';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set before guards run when the request carries a valid session. */
    user?: SessionUser;
    userSession?: SessionRecord;
    authenticatedVia?: AuthenticatedVia;
    /** Set when a token was presented but could not be checked (Redis unreachable). */
    sessionUnavailable?: boolean;
  }
}
