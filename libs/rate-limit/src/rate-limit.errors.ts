import { LatticeError, UnavailableError } from '@lattice/common';
import { writeRateLimitHeaders, type HeaderTarget } from './rate-limit.headers';
import type { RateLimitDecision } from './rate-limit.types';

/**
 * 429 RATE_LIMITED, naming the policy that refused. Carries that decision, and
 * every enforced decision of the request, so that whoever answers can send
 * the headers of all of them.
 */
export class RateLimitedError extends LatticeError {
  declare readonly decision: RateLimitDecision;
  declare readonly decisions: readonly RateLimitDecision[];

  constructor(decision: RateLimitDecision, decisions: readonly RateLimitDecision[] = [decision]) {
    // A refusal is an answer, not a fault, and is never logged with a stack: skipping
    // the capture (the largest cost of a 429) keeps a flood of refusals cheap.
    const depth = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(
      'RATE_LIMITED',
      `Too many requests (rate limit "${decision.name}"); retry in ${decision.retryAfterSeconds} s`,
      429,
    );
    Error.stackTraceLimit = depth;
    this.decision = decision;
    this.decisions = decisions;
  }

  /** RateLimit-Policy, RateLimit and Retry-After for every enforced decision of the request. */
  override writeHeaders(reply: HeaderTarget): void {
    writeRateLimitHeaders(reply, ...this.decisions);
  }
}

/** 503 UNAVAILABLE: Redis is unreachable and RATE_LIMIT_FAIL=closed. */
export class RateLimitUnavailableError extends UnavailableError {
  constructor() {
    // As for RateLimitedError: a flood of these while Redis is away must stay cheap.
    const depth = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('Rate limiting is unavailable; try again shortly');
    Error.stackTraceLimit = depth;
  }

  /** A second is the least Retry-After can say; the circuit probes Redis meanwhile. */
  override writeHeaders(reply: HeaderTarget): void {
    reply.header('Retry-After', '1');
  }
}

/** Raised when Redis has not answered within the limiter's bound. */
export class DeadlineExceededError extends Error {
  constructor(readonly ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = 'DeadlineExceededError';
  }
}
