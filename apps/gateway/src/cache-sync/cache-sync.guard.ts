import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthenticatedError, UnavailableError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import type { SessionUser } from '@lattice/session';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Who may send cache-sync events: a caller presenting
 * `Authorization: Bearer <CACHE_SYNC_TOKEN>` (when it is set), or a signed-in
 * admin. The route is @Public() for the session guard, since a sync token is
 * not a session: the session layer finds no session for it, and this guard
 * compares the header with the token itself, in constant time (both sides
 * hashed to equal length first).
 */
@Injectable()
export class CacheSyncGuard implements CanActivate {
  private readonly token: Buffer | null;

  constructor(config: ConfigService) {
    const token = config.get('cacheSync').token;
    this.token = token ? digest(token) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (this.token && presented !== undefined && timingSafeEqual(digest(presented), this.token)) {
      return true;
    }
    const user: SessionUser | undefined = request.user;
    if (user) {
      if (user.roles.includes('admin')) return true;
      throw new ForbiddenError('Cache-sync events need the admin role or the cache-sync token');
    }
    if (request.sessionUnavailable) {
      throw new UnavailableError('Sessions cannot be checked right now; try again shortly');
    }
    throw new UnauthenticatedError(
      'Send Authorization: Bearer <CACHE_SYNC_TOKEN>, or sign in as an admin, to send cache-sync events',
    );
  }
}
