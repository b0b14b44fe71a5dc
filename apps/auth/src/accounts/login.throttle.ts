import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigService, type RatePolicy } from '@lattice/config';
import {
  loginRateLimitKey,
  RateLimitedError,
  RateLimitService,
  writeRateLimitHeaders,
} from '@lattice/rate-limit';

/**
 * Login attempts per (client IP, lower-cased login), RATE_LIMIT_LOGIN: checked
 * before the password is, so guessing costs the guesser, not the server.
 */
@Injectable()
export class LoginThrottle {
  private readonly policy: RatePolicy;

  constructor(
    private readonly limiter: RateLimitService,
    config: ConfigService,
  ) {
    this.policy = config.get('rateLimit').login;
  }

  async check(request: FastifyRequest, reply: FastifyReply, login: string): Promise<void> {
    const decision = await this.limiter.consume({
      name: 'login',
      key: loginRateLimitKey(request.ip, login),
      ...this.policy,
    });
    if (!decision.allowed) {
      writeRateLimitHeaders(reply, decision);
      throw new RateLimitedError(decision);
    }
  }
}
