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

/** What a handler asks of its caller, read once from its decorators. */
interface Requirement {
  isPublic: boolean;
  roles: readonly string[];
}

/**
 * Every route needs a session unless marked @Public(); @Roles() adds role
 * requirements; a cookie-authenticated unsafe request from a foreign origin
 * is refused on every route.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly allowedOrigins: string[];
  /** Decorators do not change at run time: each (class, handler)'s are read once. */
  private readonly requirements = new WeakMap<object, WeakMap<object, Requirement>>();

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
    const { isPublic, roles } = this.requirementOf(context);
    if (isPublic) return true;
    if (!request.user) {
      if (request.sessionUnavailable)
        throw new UnavailableError('Sessions cannot be checked right now; try again shortly');
      throw new UnauthenticatedError();
    }
    if (roles.length && !roles.every((role) => request.user!.roles.includes(role))) {
      throw new ForbiddenError(
        `This route needs the role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`,
      );
    }
    return true;
  }

  private requirementOf(context: ExecutionContext): Requirement {
    const handler = context.getHandler();
    const controller = context.getClass();
    // Per class too: an inherited handler is shared by classes that may be marked differently.
    let ofClass = this.requirements.get(controller);
    if (!ofClass) this.requirements.set(controller, (ofClass = new WeakMap()));
    let requirement = ofClass.get(handler);
    if (!requirement) {
      const targets = [handler, controller];
      requirement = {
        isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true,
        roles:
          this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_ROLES, targets) ?? [],
      };
      ofClass.set(handler, requirement);
    }
    return requirement;
  }
}
