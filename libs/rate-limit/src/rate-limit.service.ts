import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  Optional,
} from '@nestjs/common';
import type { Counter, Gauge } from 'prom-client';
import { ConfigService } from '@lattice/config';
import { MetricsService, type HotCounter } from '@lattice/observability';
import { READINESS_PING_TIMEOUT_MS, RedisService } from '@lattice/redis';
import { FALLBACK_BUCKETS, RATE_LIMIT_DEFAULTS } from './rate-limit.constants';
import { RATE_LIMIT_OPTIONS } from './rate-limit.di-tokens';
import { RateLimitUnavailableError } from './rate-limit.errors';
import { counterKey, ValidatedPolicies } from './rate-limit.policy';
import type {
  RateLimitDecision,
  RateLimitModuleOptions,
  RateLimitRequest,
} from './rate-limit.types';
import { MemoryWindowStore } from './memory-window.store';
import { RedisCircuit } from './redis-circuit';
import { RedisWindowStore } from './redis-window.store';
import { RefusedKeysCache } from './refused-keys.cache';
import type { WindowPolicy, WindowResult } from './window-result';

/** Where a decision came from, for the metrics. */
const SOURCES = ['redis', 'lease', 'cache', 'memory'] as const;
type Source = (typeof SOURCES)[number];

const seconds = (ms: number): number => (ms > 0 ? Math.ceil(ms / 1000) : 0);

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
  private readonly failOpen: boolean;
  private readonly redisStore: RedisWindowStore;
  private readonly memory: MemoryWindowStore;
  private readonly refused: RefusedKeysCache;
  private readonly circuit: RedisCircuit;
  private readonly policies = new ValidatedPolicies();
  private readonly decisions: HotCounter<'policy' | 'outcome' | 'source'>;
  /** Per policy: its counters by outcome (allowed, refused) and source. */
  private readonly decisionCounters = new Map<string, { inc(): void }[]>();
  private readonly fallback: Gauge;
  private readonly fallbacks: Counter;

  constructor(
    redis: RedisService,
    config: ConfigService,
    metrics: MetricsService,
    @Optional() @Inject(RATE_LIMIT_OPTIONS) options: RateLimitModuleOptions = {},
  ) {
    const settings = { ...RATE_LIMIT_DEFAULTS, ...options };
    const { failMode, leaseMs } = config.get('rateLimit');
    this.failOpen = failMode === 'open';
    this.redisStore = new RedisWindowStore(redis, settings.redisTimeoutMs, leaseMs);
    this.memory = new MemoryWindowStore(FALLBACK_BUCKETS, settings.maxLocalKeys);
    this.refused = new RefusedKeysCache(settings.maxLocalKeys);
    const probeTimeout = Math.min(READINESS_PING_TIMEOUT_MS, settings.probeIntervalMs);
    this.circuit = new RedisCircuit(
      // Waiting for the connection's `ready` lets the limiter return the moment it reconnects.
      async () => (await redis.whenReady(probeTimeout)) && redis.ping(probeTimeout),
      settings.probeIntervalMs,
      (open, reason) => this.onCircuitChange(open, reason),
      redis.client.status !== 'ready',
    );
    this.decisions = metrics.hotCounter(
      'lattice_rate_limit_decisions_total',
      'Rate-limit decisions by policy, outcome (allowed, refused) and source (redis, lease, cache, memory)',
      ['policy', 'outcome', 'source'],
    );
    this.fallback = metrics.gauge(
      'lattice_rate_limit_fallback',
      '1 while Redis is unreachable and the limiter runs in process (fail open) or refuses (fail closed)',
    );
    this.fallbacks = metrics.counter(
      'lattice_rate_limit_fallbacks_total',
      'Times Redis failed or missed its deadline and the limiter stopped using it until it answered again',
    );
    this.fallback.set(this.circuit.isOpen ? 1 : 0);
    // Not connected yet (the app is starting): close the circuit the moment the connection
    // is up, even if the first probe gave up waiting, so that no early request counts in memory.
    this.circuit.probeNow();
    if (this.circuit.isOpen) redis.client.once('ready', () => this.circuit.probeNow());
  }

  /** Whether decisions are currently taken by Redis (false while it is unreachable). */
  get usingRedis(): boolean {
    return !this.circuit.isOpen;
  }

  /**
   * Counts one request against `name` for `key` and says whether it may pass.
   * A refused request is not counted. Rejects with RateLimitUnavailableError
   * (UNAVAILABLE, 503) when Redis is unreachable and RATE_LIMIT_FAIL=closed.
   */
  consume(request: RateLimitRequest): Promise<RateLimitDecision> {
    try {
      this.policies.check(request);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const key = counterKey(request);
    const policy = { limit: request.limit, windowMs: request.windowSeconds * 1000 };
    const now = Date.now();

    const refusedFor = this.refused.refusedFor(key, policy, now);
    if (refusedFor !== undefined) {
      return Promise.resolve(
        this.decide(request, { allowed: false, remaining: 0, resetMs: refusedFor }, 'cache'),
      );
    }
    if (!this.circuit.allows(now)) return this.withoutRedis(request, key, policy);
    const algorithm = request.algorithm ?? 'exact';
    const leased = this.redisStore.fromLease(key, policy, algorithm, now);
    if (leased) return Promise.resolve(this.decide(request, leased, 'lease'));

    // Plain promise callbacks rather than async/await: this runs for every request.
    return this.redisStore.consume(key, policy, algorithm).then(
      (result) => {
        if (!result.allowed) {
          // Measured from after the reply, so the local deadline is never earlier than Redis's.
          const after = Date.now();
          this.refused.remember(key, policy, after + result.resetMs, after);
        }
        return this.decide(request, result, 'redis');
      },
      (error: unknown) => {
        this.circuit.open(Date.now(), error);
        return this.withoutRedis(request, key, policy);
      },
    );
  }

  /** Unused leased admissions go back to Redis before the connection closes. */
  beforeApplicationShutdown(): Promise<void> {
    return this.redisStore.release();
  }

  /** While Redis is unreachable: this instance's own limit (fail open), or 503 (fail closed). */
  private withoutRedis(
    request: RateLimitRequest,
    key: string,
    policy: WindowPolicy,
  ): Promise<RateLimitDecision> {
    if (!this.failOpen) return Promise.reject(new RateLimitUnavailableError());
    return Promise.resolve(
      this.decide(request, this.memory.consume(key, policy, Date.now()), 'memory'),
    );
  }

  private decide(
    request: RateLimitRequest,
    result: WindowResult,
    source: Source,
  ): RateLimitDecision {
    this.count(request.name, result.allowed, source);
    const resetSeconds = seconds(result.resetMs);
    return {
      allowed: result.allowed,
      name: request.name,
      limit: request.limit,
      windowSeconds: request.windowSeconds,
      remaining: Math.max(0, result.remaining),
      resetSeconds,
      // A refused caller is told to wait at least a second: Retry-After has no smaller unit.
      retryAfterSeconds: result.allowed ? 0 : Math.max(1, resetSeconds),
    };
  }

  private count(policy: string, allowed: boolean, source: Source): void {
    let counters = this.decisionCounters.get(policy);
    if (!counters) {
      // The series of a policy, found once: counting a decision is then an index and an add.
      counters = [];
      for (const outcome of ['allowed', 'refused']) {
        for (const from of SOURCES) {
          counters.push(this.decisions.child({ policy, outcome, source: from }));
        }
      }
      this.decisionCounters.set(policy, counters);
    }
    counters[(allowed ? 0 : SOURCES.length) + SOURCES.indexOf(source)].inc();
  }

  private onCircuitChange(open: boolean, reason?: unknown): void {
    this.fallback.set(open ? 1 : 0);
    if (open) {
      this.fallbacks.inc();
      const why = reason instanceof Error ? reason.message : String(reason);
      this.logger.warn(
        `Redis unreachable (${why}); rate limits ${
          this.failOpen ? 'are kept in process' : 'refuse requests with 503'
        } until it answers again`,
      );
    } else {
      // Counts kept in process during the outage were this instance's alone; Redis is the truth again.
      this.memory.clear();
      this.logger.log('Rate limits are shared through Redis');
    }
  }
}
