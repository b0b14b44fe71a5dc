import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigService, type RateLimitConfig } from '@lattice/config';
import { clientIpKey } from './client-ip';
import {
  RATE_LIMIT_POLICY,
  RATE_LIMIT_SKIP,
  type RateLimitKey,
  type RateLimitOptions,
} from './rate-limit.decorators';
import { RateLimitedError, RateLimitUnavailableError } from './rate-limit.errors';
import { writeRateLimitHeaders } from './rate-limit.headers';
import { RateLimitService } from './rate-limit.service';
import type { RateLimitAlgorithm, RateLimitedUser } from './rate-limit.types';

/** A route's decorated policy, resolved once. */
interface RoutePolicy {
  name: string;
  limit: number;
  windowSeconds: number;
  key: RateLimitKey;
  algorithm?: RateLimitAlgorithm;
}

/** `null`: the route is not limited; `'default'`: RATE_LIMIT_IP / RATE_LIMIT_USER. */
type ResolvedRoute = RoutePolicy | 'default' | null;

type RequestWithUser = FastifyRequest & { user?: RateLimitedUser | null };

/** Seconds a client is told to wait on a 503 while the limiter cannot reach Redis. */
const UNAVAILABLE_RETRY_AFTER = '1';

const kebab = (text: string): string =>
  text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .toLowerCase();

/**
 * The global guard: every HTTP route is limited, by the signed-in user
 * (`user:<id>`, RATE_LIMIT_USER) or else the client address (`ip:<address>`,
 * RATE_LIMIT_IP), unless @RateLimit gives it its own policy or @SkipRateLimit
 * (or the Fastify route config `{ rateLimit: false }`) exempts it. It writes
 * the RateLimit headers on every limited response and refuses with 429.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly defaults: RateLimitConfig;
  private readonly routes = new WeakMap<object, Map<object, ResolvedRoute>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitService,
    config: ConfigService,
  ) {
    this.defaults = config.get('rateLimit');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<RequestWithUser>();
    const route = this.resolve(context.getClass(), context.getHandler(), request);
    if (route === null) return true;
    const reply = http.getResponse<FastifyReply>();
    const user = request.user;
    const identity = user ? `user:${user.id}` : `ip:${clientIpKey(request.ip)}`;

    let decision;
    try {
      if (route === 'default') {
        const policy = user ? this.defaults.user : this.defaults.ip;
        decision = await this.limiter.consume({
          name: user ? 'user' : 'ip',
          key: identity,
          limit: policy.limit,
          windowSeconds: policy.windowSeconds,
        });
      } else {
        decision = await this.limiter.consume({
          name: route.name,
          key: this.keyFor(route.key, request, identity),
          limit: route.limit,
          windowSeconds: route.windowSeconds,
          algorithm: route.algorithm,
        });
      }
    } catch (error) {
      if (error instanceof RateLimitUnavailableError) {
        reply.header('Retry-After', UNAVAILABLE_RETRY_AFTER);
      }
      throw error;
    }
    writeRateLimitHeaders(reply, decision);
    if (!decision.allowed) throw new RateLimitedError(decision);
    return true;
  }

  private keyFor(key: RateLimitKey, request: FastifyRequest, identity: string): string {
    if (key === 'auto') return identity;
    if (key === 'ip') return `ip:${clientIpKey(request.ip)}`;
    // An empty key would lump callers together: it means `auto` like undefined.
    return key(request) || identity;
  }

  /** The policy of a route, looked up once: a method's decorators win over its class's. */
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
      route =
        config?.rateLimit === false
          ? null
          : this.lookup(controller as { name: string }, handler as { name: string });
      byClass.set(controller, route);
    }
    return route;
  }

  private lookup(controller: { name: string }, handler: { name: string }): ResolvedRoute {
    for (const target of [handler, controller] as const) {
      const t = target as unknown as () => void;
      if (this.reflector.get<boolean | undefined>(RATE_LIMIT_SKIP, t)) return null;
      const options = this.reflector.get<RateLimitOptions | undefined>(RATE_LIMIT_POLICY, t);
      if (options) {
        return {
          name:
            options.name ??
            `${kebab(controller.name.replace(/Controller$/, '')) || 'route'}.${kebab(handler.name)}`.slice(
              0,
              64,
            ),
          limit: options.limit,
          windowSeconds: options.window,
          key: options.key ?? 'auto',
          algorithm: options.algorithm,
        };
      }
    }
    return 'default';
  }
}
