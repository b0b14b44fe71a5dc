import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiSecurity } from '@nestjs/swagger';
import { ApiError } from './api-errors.decorator';

/** Names of the document's security schemes (CONTRACT 3: the `sid` cookie or a bearer token). */
export const SESSION_COOKIE_SCHEME = 'sid';
export const BEARER_SCHEME = 'bearer';

export interface ApiSessionOptions {
  /** Roles the route requires on top of a session (as `@Roles()` says). */
  roles?: string[];
  /** The route is public but answers signed-in callers differently. */
  optional?: boolean;
}

/**
 * A route that needs (or, with `optional`, reads) the caller's session,
 * presented as the `sid` cookie or as `Authorization: Bearer <token>`, and
 * the errors that come with it.
 */
export function ApiSession(options: ApiSessionOptions = {}): MethodDecorator & ClassDecorator {
  const decorators = [ApiCookieAuth(SESSION_COOKIE_SCHEME), ApiBearerAuth(BEARER_SCHEME)];
  if (options.optional) return applyDecorators(ApiSecurity({}), ...decorators);
  decorators.push(
    ApiError(401, 'UNAUTHENTICATED', 'no valid session (missing, expired or revoked)'),
    ApiError(503, 'UNAVAILABLE', 'sessions cannot be checked right now; try again shortly'),
  );
  if (options.roles?.length) {
    decorators.push(
      ApiError(403, 'FORBIDDEN', `the caller lacks the role ${options.roles.join(', ')}`),
    );
  }
  return applyDecorators(...decorators);
}
