import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { SessionRecord, SessionUser } from './session.types';

export const REQUIRED_ROLES = 'lattice:required-roles';

/** Only callers holding every one of these roles may use the route. */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_ROLES, roles);

/** The signed-in caller (routes that are not @Public always have one). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): SessionUser | undefined =>
    context.switchToHttp().getRequest<FastifyRequest>().user,
);

/** The caller's session record. */
export const CurrentSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext): SessionRecord | undefined =>
    context.switchToHttp().getRequest<FastifyRequest>().userSession,
);
