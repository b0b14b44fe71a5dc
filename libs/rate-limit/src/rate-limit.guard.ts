import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RATE_LIMIT_POLICY, RATE_LIMIT_SKIP } from './rate-limit.decorators';
import { RateLimitService } from './rate-limit.service';
import type { RateLimitedUser, RateLimitUse } from './rate-limit.types';

/** `null`: the route is not limited; `'default'`: `user` when signed in, else `ip`. */
type ResolvedRoute = readonly RateLimitUse[] | 'default' | null;

type RequestWithUser = FastifyRequest & { user?: RateLimitedUser | null };

/**
 * The global guard: every HTTP route is limited, by the signed-in user
 * (`user`, RATE_LIMIT_USER) or else the client address (`ip`, RATE_LIMIT_IP),
 * unless @RateLimit names its own policies or @SkipRateLimit (or the Fastify
 * route config `{ rateLimit: false }`) exempts it. It enforces them through
 * RateLimitService.enforce, which writes the headers and refuses with 429.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly routes = new WeakMap<object, Map<object, ResolvedRoute>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitService,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<RequestWithUser>();
    const route = this.resolve(context.getClass(), context.getHandler(), request);
    if (route === null) return true;
    const uses = route === 'default' ? this.limiter.defaultPolicies(request) : route;
    return this.limiter.enforce(uses, request, http.getResponse<FastifyReply>()).then(() => true);
  }

  /** The policies of a route, looked up once: a method's decorators win over its class's. */
  private resolve(controller: object, handler: object, request: FastifyRequest): ResolvedRoute {
    let byClass = this.routes.get(handler);
    if (!byClass) {
      byClass = new Map();
      this.routes.set(handler, byClass);
    }
    let route = byClass.get(controller);
    if (route === undefined) {
      // The Fastify route config opt-out, for code below this lib (observability) that
      // cannot import @SkipRateLimit; read once, as `routeOptions` is rebuilt on each access.
      const config = request.routeOptions.config as { rateLimit?: unknown } | undefined;
      route = config?.rateLimit === false ? null : this.lookup(controller, handler);
      byClass.set(controller, route);
    }
    return route;
  }

  private lookup(controller: object, handler: object): ResolvedRoute {
    for (const target of [handler, controller]) {
      const t = target as () => void;
      if (this.reflector.get<boolean | undefined>(RATE_LIMIT_SKIP, t)) return null;
      const names = this.reflector.get<string[] | undefined>(RATE_LIMIT_POLICY, t);
      if (names) return names;
    }
    return 'default';
  }
}
