import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import {
  ForbiddenError,
  PUBLIC_ROUTE,
  UnauthenticatedError,
  UnavailableError,
} from '@lattice/common';
import { ConfigService } from '@lattice/config';
import { isForbiddenCrossOrigin } from './origin-check';
import { REQUIRED_ROLES } from './session.decorators';

/**
 * Every route needs a session unless marked @Public(); @Roles() adds role
 * requirements; a cookie-authenticated unsafe request from a foreign origin
 * is refused on every route.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly allowedOrigins: string[];

  constructor(
    private readonly reflector: Reflector,
    config: ConfigService,
  ) {
    this.allowedOrigins = config.get('http').allowedOrigins;
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (isForbiddenCrossOrigin(request, this.allowedOrigins)) {
      throw new ForbiddenError(
        'Cross-origin requests with a session cookie are not allowed from this origin',
      );
    }
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    if (!request.user) {
      if (request.sessionUnavailable)
        throw new UnavailableError('Sessions cannot be checked right now; try again shortly');
      throw new UnauthenticatedError();
    }
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_ROLES, targets);
    if (roles?.length && !roles.every((role) => request.user!.roles.includes(role))) {
      throw new ForbiddenError(
        `This route needs the role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`,
      );
    }
    return true;
  }
}
