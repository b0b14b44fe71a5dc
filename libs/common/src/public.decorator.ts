import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'lattice:public-route';

/**
 * Marks a route or controller as open to anonymous callers. Every other route
 * needs a session (the session lib's global guard reads this marker). It lives
 * here so that any lib can mark its routes without depending on sessions.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
