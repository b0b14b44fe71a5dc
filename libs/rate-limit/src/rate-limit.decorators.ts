import { SetMetadata } from '@nestjs/common';

export const RATE_LIMIT_POLICY = 'lattice:rate-limit:policy';
export const RATE_LIMIT_SKIP = 'lattice:rate-limit:skip';

/**
 * Applies named policies (declared in RateLimitModule.forRoot({ policies }))
 * to a route, or to every route of a controller, in place of the default
 * (`user` when signed in, else `ip`). All of them must admit a request. A
 * method's decorator wins over its class's. A name that is not declared
 * fails the app's start.
 */
export function RateLimit(...policies: [string, ...string[]]): ClassDecorator & MethodDecorator {
  if (policies.length === 0) throw new TypeError('@RateLimit needs at least one policy name');
  if (new Set(policies).size !== policies.length) {
    throw new TypeError(`@RateLimit(${policies.join(', ')}) names a policy twice`);
  }
  return SetMetadata(RATE_LIMIT_POLICY, policies);
}

/** Leaves a route, or every route of a controller, unlimited (health, metrics). */
export function SkipRateLimit(): ClassDecorator & MethodDecorator {
  return SetMetadata(RATE_LIMIT_SKIP, true);
}
