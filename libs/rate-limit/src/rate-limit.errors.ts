import { LatticeError, UnavailableError } from '@lattice/common';
import type { RateLimitDecision } from './rate-limit.types';

/** 429 RATE_LIMITED, carrying the decision so a caller can send its headers. */
export class RateLimitedError extends LatticeError {
  declare readonly decision: RateLimitDecision;

  constructor(decision: RateLimitDecision) {
    // A refusal is an answer, not a fault, and is never logged with a stack: skipping
    // the capture (the largest cost of a 429) keeps a flood of refusals cheap.
    const depth = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('RATE_LIMITED', `Too many requests; retry in ${decision.retryAfterSeconds} s`, 429);
    Error.stackTraceLimit = depth;
    this.decision = decision;
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
}
