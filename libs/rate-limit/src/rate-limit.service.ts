import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  Optional,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ValidationFailedError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import { MetricsService, traced, tracingEnabled } from '@lattice/observability';
import { RedisService } from '@lattice/redis';
import { MAX_LIMIT, RATE_LIMIT_DEFAULTS } from './rate-limit.constants';
import { RATE_LIMIT_OPTIONS } from './rate-limit.di-tokens';
import { DecisionReporter } from './decision.reporter';
import { policyKey } from './policy-key';
import { RateLimitedError, RateLimitUnavailableError } from './rate-limit.errors';
import { RateLimitDecider } from './rate-limit.decider';
import { writeRateLimitHeaders, type HeaderTarget } from './rate-limit.headers';
import { ValidatedPolicies } from './rate-limit.policy';
import { RateLimitRegistry, registeredPolicy, validateCost } from './rate-limit.registry';
import type {
  RateLimitDecision,
  RateLimitModuleOptions,
  RateLimitPolicy,
  RateLimitRequest,
  RateLimitState,
  RateLimitSubject,
  RateLimitUse,
  RegisteredPolicy,
} from './rate-limit.types';
import { RateLimitOverrides } from './rate-limit.overrides';
import { RedisFallback } from './redis.fallback';
import { RedisWindowStore } from './redis-window.store';
import { RefusedKeysCache } from './refused-keys.cache';

/** On a request: the decisions enforce() has written headers for. */
const APPLIED = Symbol('rate-limit decisions');

/** The default policies, as enforce() takes them: one array each, never rebuilt. */
const SIGNED_IN: readonly RateLimitUse[] = ['user'];
const ANONYMOUS: readonly RateLimitUse[] = ['ip'];

/**
 * Sliding-window rate limits shared by every instance through Redis. Usable
 * anywhere: the HTTP guard, socket events, a login handler.
 *
 * While Redis is unreachable: with RATE_LIMIT_FAIL=open each instance limits
 * on its own in memory, without waiting on Redis more than `redisTimeoutMs`
 * (and, once the failure is known, not at all); with `closed`, consume()
 * rejects at once with UNAVAILABLE (503). Either way it goes back to Redis by
 * itself when Redis answers again.
 */
@Injectable()
export class RateLimitService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly redisStore: RedisWindowStore;
  private readonly fallback: RedisFallback;
  private readonly decider: RateLimitDecider;
  private readonly policies = new ValidatedPolicies();
  private readonly reporter: DecisionReporter;
  /** Every named policy of the process. */
  readonly registry: RateLimitRegistry;

  constructor(
    redis: RedisService,
    config: ConfigService,
    metrics: MetricsService,
    @Optional() @Inject(RATE_LIMIT_OPTIONS) options: RateLimitModuleOptions = {},
    private readonly overrides: RateLimitOverrides,
  ) {
    const { policies, ...tuning } = options;
    const settings = { ...RATE_LIMIT_DEFAULTS, ...tuning };
    const rateLimit = config.get('rateLimit');
    const { failMode, leaseMs } = rateLimit;
    this.registry = new RateLimitRegistry(rateLimit, policies);
    this.redisStore = new RedisWindowStore(redis, settings.redisTimeoutMs, leaseMs);
    this.reporter = new DecisionReporter(metrics, this.logger);
    this.fallback = new RedisFallback(redis, metrics, this.logger, failMode === 'open', settings);
    this.decider = new RateLimitDecider(
      this.redisStore,
      new RefusedKeysCache(settings.maxLocalKeys),
      this.fallback,
      this.reporter,
    );
  }

  /** Whether decisions are currently taken by Redis (false while it is unreachable). */
  get usingRedis(): boolean {
    return this.fallback.usingRedis;
  }

  /**
   * Where the next decision is taken (for readiness): in Redis, shared by
   * every instance; in this instance's memory (Redis unreachable, fail open);
   * or nowhere, 503 (Redis unreachable, fail closed). `since`: when the
   * limiter stopped using Redis (its start, when it has not used it yet).
   */
  get state(): RateLimitState {
    return this.fallback.state;
  }

  /** The policies a request gets when its route names none: `user` when signed in, else `ip`. */
  defaultPolicies(subject: RateLimitSubject): readonly RateLimitUse[] {
    return subject.user ? SIGNED_IN : ANONYMOUS;
  }

  /**
   * A policy made at run time (the gateway's route table), validated once
   * here: use the result with enforce(). Its name must not be one of the
   * registry's, so that two policies never share a counter by accident.
   */
  runtimePolicy(policy: RateLimitPolicy): RegisteredPolicy {
    if (this.registry.has(policy.name)) {
      throw new TypeError(
        `rate limit policy "${policy.name}" is already declared; a run-time policy needs a name of its own`,
      );
    }
    return registeredPolicy(policy);
  }

  /**
   * The one way to apply rate limits: decides every policy of `uses` for one
   * request, all in the same Redis call, and resolves with their decisions
   * when all admit it. Writes the RateLimit headers (one list item per
   * enforced policy) on `headers` when given, whatever the outcome. Rejects
   * with RateLimitedError naming the first policy that refused, or with
   * RateLimitUnavailableError (503, `Retry-After: 1`) when Redis is
   * unreachable and RATE_LIMIT_FAIL=closed. A shadow policy is counted and
   * reported, never refuses, and is left out of the headers.
   */
  enforce(
    uses: readonly RateLimitUse[],
    subject: RateLimitSubject,
    headers?: HeaderTarget,
  ): Promise<RateLimitDecision[]> {
    if (!tracingEnabled()) return this.decideAll(uses, subject, headers);
    return traced('rate-limit', { 'lattice.rate_limit.policies': uses.length }, () =>
      this.decideAll(uses, subject, headers),
    );
  }

  private decideAll(
    uses: readonly RateLimitUse[],
    subject: RateLimitSubject,
    headers?: HeaderTarget,
  ): Promise<RateLimitDecision[]> {
    const pending: Promise<RateLimitDecision>[] = [];
    try {
      for (const use of uses) {
        const decision = this.apply(use, subject);
        if (decision) pending.push(decision);
      }
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // One policy, the common case: no Promise.all and its array on the hot path.
    const decided =
      pending.length === 1 ? pending[0].then((decision) => [decision]) : Promise.all(pending);
    return decided.then(
      (decisions) => this.conclude(decisions, subject, headers),
      (error: unknown) => {
        if (headers && error instanceof RateLimitUnavailableError) error.writeHeaders(headers);
        throw error;
      },
    );
  }

  /** One policy of enforce(); undefined when it does not apply (`user` for an anonymous caller). */
  private apply(
    use: RateLimitUse,
    subject: RateLimitSubject,
  ): Promise<RateLimitDecision> | undefined {
    const named = typeof use === 'string' ? use : use.policy;
    const policy = typeof named === 'string' ? this.registry.get(named) : named;
    const given = typeof use === 'string' ? undefined : use;
    const key = given?.key || policyKey(policy.key, subject);
    if (key === undefined) return undefined;
    let cost = given?.cost ?? policy.cost;
    if (typeof cost === 'function') {
      cost = cost(subject as FastifyRequest);
      // Made from the request (a size, a count): out of range is the caller's doing, a 400.
      if (!Number.isInteger(cost) || cost < 1 || cost > MAX_LIMIT) {
        throw new ValidationFailedError(
          `Invalid input: this request's weight for rate limit "${policy.name}" must be an integer from 1 to ${MAX_LIMIT}`,
        );
      }
    } else if (given?.cost !== undefined) {
      validateCost(policy.name, cost);
    }
    return this.decider.decideValid(
      {
        name: policy.name,
        key,
        limit: this.overrides.limitFor(policy.name, policy.limit, key, subject),
        windowSeconds: policy.windowSeconds,
        algorithm: policy.algorithm,
        cost,
        blockSeconds: policy.blockSeconds,
      },
      policy.shadow,
    );
  }

  private conclude(
    decisions: RateLimitDecision[],
    subject: RateLimitSubject & { [APPLIED]?: RateLimitDecision[] },
    headers?: HeaderTarget,
  ): RateLimitDecision[] {
    let refused: RateLimitDecision | undefined;
    let enforced = decisions;
    for (const decision of decisions) {
      if (decision.shadow) {
        // Left out of the headers: a client must not slow down for a limit on trial.
        enforced = decisions.filter((d) => !d.shadow);
        if (!decision.allowed) this.reporter.shadowRefusal(decision);
      } else if (!decision.allowed && !refused) {
        refused = decision;
      }
    }
    if (headers) {
      // A second enforce() for the same request (the guard's, then the login handler's):
      // the headers list the policies of both.
      const earlier = subject[APPLIED];
      if (earlier) enforced = earlier.concat(enforced);
      subject[APPLIED] = enforced;
      // Refused too: the caller's reply has them even when it answers the error itself.
      if (enforced.length > 0) writeRateLimitHeaders(headers, ...enforced);
    }
    if (refused) throw new RateLimitedError(refused, enforced);
    return decisions;
  }

  /**
   * Counts one request against `name` for `key` and says whether it may pass.
   * A refused request is not counted. Rejects with RateLimitUnavailableError
   * (UNAVAILABLE, 503) when Redis is unreachable and RATE_LIMIT_FAIL=closed.
   */
  consume(request: RateLimitRequest): Promise<RateLimitDecision> {
    try {
      this.policies.check(request);
      if (request.cost !== undefined) validateCost(request.name, request.cost);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.decider.decideValid(request, false);
  }

  /** Unused leased admissions go back to Redis before the connection closes. */
  beforeApplicationShutdown(): Promise<void> {
    this.fallback.stop();
    return this.redisStore.release();
  }
}
