import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthenticatedError, UnavailableError } from '@lattice/common';
import { ConfigService, type RateLimitConfig } from '@lattice/config';
import { clientIpKey, RateLimitService, type RateLimitDecision } from '@lattice/rate-limit';
import { isForbiddenCrossOrigin } from '@lattice/session';
import type { ProxyRoute } from './route-table';

/**
 * What the edge checks before forwarding, once for every upstream: the
 * session (a cross-site cookie request is refused, `auth: "required"` needs a
 * signed-in caller) and the rate limits (RATE_LIMIT_USER or RATE_LIMIT_IP,
 * plus the route's own `rateLimit`). Platform routes are left to their apps,
 * which check both themselves, so nothing is counted twice.
 */
@Injectable()
export class EdgePolicy {
  private readonly defaults: RateLimitConfig;
  private readonly allowedOrigins: readonly string[];

  constructor(
    private readonly limiter: RateLimitService,
    config: ConfigService,
  ) {
    this.defaults = config.get('rateLimit');
    this.allowedOrigins = config.get('http').allowedOrigins;
  }

  /**
   * Resolves with the rate-limit decisions taken (to be sent as headers; one
   * may be a refusal); rejects with the error to answer instead. A request
   * that matches no route is limited like any other before its 404.
   */
  admit(request: FastifyRequest, route: ProxyRoute | undefined): Promise<RateLimitDecision[]> {
    if (route?.auth === 'platform') return Promise.resolve([]);
    const usesSession = route !== undefined && route.auth !== 'none';
    if (usesSession) {
      if (isForbiddenCrossOrigin(request, this.allowedOrigins)) {
        return Promise.reject(
          new ForbiddenError(
            'Cross-origin requests with a session cookie are not allowed from this origin',
          ),
        );
      }
      if (route.auth === 'required' && !request.user) {
        return Promise.reject(
          request.sessionUnavailable
            ? new UnavailableError('Sessions cannot be checked right now; try again shortly')
            : new UnauthenticatedError(),
        );
      }
    }
    const user = usesSession ? request.user : undefined;
    const key = user ? `user:${user.id}` : `ip:${clientIpKey(request.ip)}`;
    const policy = user ? this.defaults.user : this.defaults.ip;
    const general = this.limiter.consume({
      name: user ? 'user' : 'ip',
      key,
      limit: policy.limit,
      windowSeconds: policy.windowSeconds,
    });
    if (!route?.rateLimit) return general.then((decision) => [decision]);
    return Promise.all([general, this.limiter.consume({ ...route.rateLimit, key })]);
  }
}
