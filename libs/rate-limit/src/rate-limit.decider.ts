import type { DecisionReporter, Source } from './decision.reporter';
import { RateLimitUnavailableError } from './rate-limit.errors';
import { blockKey, counterKey } from './rate-limit.policy';
import type { RateLimitDecision, RateLimitRequest } from './rate-limit.types';
import type { RedisFallback } from './redis.fallback';
import type { RedisWindowStore } from './redis-window.store';
import type { RefusedKeysCache } from './refused-keys.cache';
import type { WindowPolicy, WindowResult } from './window-result';

const seconds = (ms: number): number => (ms > 0 ? Math.ceil(ms / 1000) : 0);

/**
 * Decides one counter (a validated RateLimitRequest) where it is cheapest to
 * decide right: from the refusal cache, a lease, Redis, or, while Redis is
 * unreachable, the fallback; and turns the result into a RateLimitDecision,
 * counted by the reporter.
 */
export class RateLimitDecider {
  constructor(
    private readonly redisStore: RedisWindowStore,
    private readonly refused: RefusedKeysCache,
    private readonly fallback: RedisFallback,
    private readonly reporter: DecisionReporter,
  ) {}

  /**
   * Counts `request` (its policy and cost known to be valid: RateLimitService
   * checks them) and says whether it may pass. `shadow`: marked on the decision.
   */
  decideValid(request: RateLimitRequest, shadow: boolean): Promise<RateLimitDecision> {
    const key = counterKey(request);
    const policy = { limit: request.limit, windowMs: request.windowSeconds * 1000 };
    const cost = request.cost ?? 1;
    const now = Date.now();

    // A key that refused one unit refuses any cost until then.
    const refusedFor = this.refused.refusedFor(key, policy, now);
    if (refusedFor !== undefined) {
      return Promise.resolve(
        this.decide(
          request,
          { allowed: false, remaining: 0, resetMs: refusedFor },
          'cache',
          shadow,
        ),
      );
    }
    if (!this.fallback.allows(now)) return this.withoutRedis(request, key, policy, cost, shadow);
    const algorithm = request.algorithm ?? 'exact';
    if (cost === 1 && !request.blockSeconds) {
      const leased = this.redisStore.fromLease(key, policy, algorithm, now);
      if (leased) return Promise.resolve(this.decide(request, leased, 'lease', shadow));
    }

    // Plain promise callbacks rather than async/await: this runs for every request.
    const block = request.blockSeconds
      ? { key: blockKey(request), ms: request.blockSeconds * 1000 }
      : undefined;
    return this.redisStore.consume(key, policy, algorithm, cost, block).then(
      (result) => {
        // A costly request refused says nothing of a cheaper one: only a refused unit is remembered.
        if (!result.allowed && cost === 1) {
          // Measured from after the reply, so the local deadline is never earlier than Redis's.
          const after = Date.now();
          this.refused.remember(key, policy, after + result.resetMs, after);
        }
        return this.decide(request, result, 'redis', shadow);
      },
      (error: unknown) => {
        this.fallback.failed(Date.now(), error);
        return this.withoutRedis(request, key, policy, cost, shadow);
      },
    );
  }

  /** While Redis is unreachable: this instance's own limit (fail open), or 503 (fail closed). */
  private withoutRedis(
    request: RateLimitRequest,
    key: string,
    policy: WindowPolicy,
    cost: number,
    shadow: boolean,
  ): Promise<RateLimitDecision> {
    const result = this.fallback.withoutRedis(key, policy, cost, shadow);
    if (!result) return Promise.reject(new RateLimitUnavailableError());
    return Promise.resolve(this.decide(request, result, 'memory', shadow));
  }

  private decide(
    request: RateLimitRequest,
    result: WindowResult,
    source: Source,
    shadow: boolean,
  ): RateLimitDecision {
    this.reporter.count(request.name, result.allowed, source);
    const resetSeconds = seconds(result.resetMs);
    const decision: RateLimitDecision = {
      allowed: result.allowed,
      name: request.name,
      limit: request.limit,
      windowSeconds: request.windowSeconds,
      remaining: Math.max(0, result.remaining),
      resetSeconds,
      // A refused caller is told to wait at least a second: Retry-After has no smaller unit.
      retryAfterSeconds: result.allowed ? 0 : Math.max(1, resetSeconds),
    };
    if (shadow) decision.shadow = true;
    return decision;
  }
}
