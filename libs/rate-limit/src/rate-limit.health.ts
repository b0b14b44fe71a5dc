import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RateLimitService } from './rate-limit.service';

/**
 * Readiness's report of the limiter: where it takes its decisions now
 * (`mode`), what it does without Redis (`failMode`, RATE_LIMIT_FAIL) and,
 * while it is not using Redis, since when and a `warning`. Never `down`:
 * the limiter's state must not make an instance unready. Readiness follows
 * Redis alone (CONTRACT 4), and every instance shares that Redis, so a limiter
 * that lost it on one instance has lost it, or is about to, on all of them:
 * failing readiness for it would take the whole fleet out of the load balancer
 * over a blip. Counting in memory (or refusing with 503) is reported as
 * `degraded`, which keeps readiness 200 and sets the report's `status` to
 * `degraded`.
 */
@Injectable()
export class RateLimitHealthIndicator {
  constructor(
    private readonly limiter: RateLimitService,
    private readonly indicator: HealthIndicatorService,
  ) {}

  check(key = 'rateLimit'): HealthIndicatorResult {
    const session = this.indicator.check(key);
    const state = this.limiter.state;
    if (state.mode === 'redis') return session.up({ mode: state.mode, failMode: state.failMode });
    return session.degraded({
      mode: state.mode,
      failMode: state.failMode,
      since: new Date(state.since).toISOString(),
      warning:
        state.mode === 'memory'
          ? 'Redis is unreachable for the rate limiter: each instance counts only its own requests, so N instances together admit up to N times each limit'
          : 'Redis is unreachable for the rate limiter: rate-limited requests get 503 until it answers',
    });
  }
}
