import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loginRateLimitKey, RateLimitService } from '@lattice/rate-limit';

/**
 * Login attempts per (client IP, lower-cased login), the `login` policy
 * (RATE_LIMIT_LOGIN): checked before the password is, so guessing costs the
 * guesser, not the server. Writes its RateLimit headers on every answer.
 */
@Injectable()
export class LoginThrottle {
  constructor(private readonly limiter: RateLimitService) {}

  async check(request: FastifyRequest, reply: FastifyReply, login: string): Promise<void> {
    await this.limiter.enforce(
      [{ policy: 'login', key: loginRateLimitKey(request.ip, login) }],
      request,
      reply,
    );
  }
}
