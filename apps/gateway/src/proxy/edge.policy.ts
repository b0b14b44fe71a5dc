import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthenticatedError, UnavailableError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import {
  RateLimitService,
  type RateLimitDecision,
  type RateLimitUse,
  type RegisteredPolicy,
} from '@lattice/rate-limit';
import { isForbiddenCrossOrigin } from '@lattice/session';
import type { ProxyRoute } from './route.table';

/**
 * What the edge checks before forwarding, once for every upstream: the
 * session (a cross-site cookie request is refused, `auth: "required"` needs a
 * signed-in caller) and the rate limits (the default `user` or `ip` policy,
 * plus the route's own `rateLimit`, all in one RateLimitService.enforce).
 * Platform routes are left to their apps, which check both themselves, so
 * nothing is counted twice.
 */
@Injectable()
export class EdgePolicy {
  private readonly allowedOrigins: readonly string[];
  /** Per route of the table: its policies, the default one first, made once. */
  private readonly routePolicies = new WeakMap<
    NonNullable<ProxyRoute['rateLimit']>,
    { signedIn: RateLimitUse[]; anonymous: RateLimitUse[] }
  >();

  constructor(
    private readonly limiter: RateLimitService,
    config: ConfigService,
  ) {
    this.allowedOrigins = config.get('http').allowedOrigins;
  }

  /**
   * Resolves with the rate-limit decisions taken, their headers written on
   * `reply`; rejects with the error to answer instead (a refusal among them).
   * A request that matches no route is limited like any other before its 404.
   */
  admit(
    request: FastifyRequest,
    reply: FastifyReply,
    route: ProxyRoute | undefined,
  ): Promise<RateLimitDecision[]> {
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
    // A route that uses no session counts its callers by address, signed in or not.
    const subject = usesSession ? request : { ip: request.ip };
    const uses = route?.rateLimit
      ? this.policiesOf(route.rateLimit)[request.user && usesSession ? 'signedIn' : 'anonymous']
      : this.limiter.defaultPolicies(subject);
    return this.limiter.enforce(uses, subject, reply);
  }

  private policiesOf(rateLimit: NonNullable<ProxyRoute['rateLimit']>): {
    signedIn: RateLimitUse[];
    anonymous: RateLimitUse[];
  } {
    let policies = this.routePolicies.get(rateLimit);
    if (!policies) {
      const own: RegisteredPolicy = this.limiter.runtimePolicy({
        name: rateLimit.name,
        limit: rateLimit.limit,
        window: rateLimit.windowSeconds,
      });
      policies = { signedIn: ['user', { policy: own }], anonymous: ['ip', { policy: own }] };
      this.routePolicies.set(rateLimit, policies);
    }
    return policies;
  }
}
