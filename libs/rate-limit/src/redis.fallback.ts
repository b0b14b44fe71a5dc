import type { Logger } from '@nestjs/common';
import type { Counter, Gauge } from 'prom-client';
import type { MetricsService } from '@lattice/observability';
import {
  READINESS_PING_TIMEOUT_MS,
  REDIS_STARTUP_WAIT_MS,
  type RedisService,
} from '@lattice/redis';
import { FALLBACK_BUCKETS } from './rate-limit.constants';
import type { RateLimitModuleOptions, RateLimitState } from './rate-limit.types';
import { MemoryWindowStore } from './memory-window.store';
import { RedisCircuit } from './redis.circuit';
import type { WindowPolicy, WindowResult } from './window-result';

/**
 * Whether the limiter may ask Redis now, and what it does while it may not:
 * with RATE_LIMIT_FAIL=open this instance limits on its own in memory; with
 * `closed` it refuses (503). Holds the circuit and its probe, the in-process
 * store, the fallback gauge and counter, and the log lines of each change.
 */
export class RedisFallback {
  private readonly memory: MemoryWindowStore;
  private readonly circuit: RedisCircuit;
  private readonly inFallback: Gauge;
  private readonly fallbacks: Counter;

  constructor(
    redis: RedisService,
    metrics: MetricsService,
    private readonly logger: Pick<Logger, 'log' | 'warn'>,
    private readonly failOpen: boolean,
    settings: Required<Pick<RateLimitModuleOptions, 'probeIntervalMs' | 'maxLocalKeys'>>,
  ) {
    this.memory = new MemoryWindowStore(FALLBACK_BUCKETS, settings.maxLocalKeys);
    const probeTimeout = Math.min(READINESS_PING_TIMEOUT_MS, settings.probeIntervalMs);
    // eslint-disable-next-line no-restricted-syntax -- the connection's state, no command
    let starting = redis.client.status !== 'ready';
    this.circuit = new RedisCircuit(
      // Waiting for the connection's `ready` lets the limiter return the moment it reconnects.
      // While the app starts, the first probe waits as long as the other start-up steps: one
      // that gave up sooner would leave the circuit open (decisions in memory) until the next
      // probe, after the app already reported ready (a Cluster's masters connect one by one).
      async () => {
        const ok =
          (await redis.whenReady(starting ? REDIS_STARTUP_WAIT_MS : probeTimeout)) &&
          (await redis.ping(probeTimeout));
        if (ok) starting = false;
        return ok;
      },
      settings.probeIntervalMs,
      (open, reason) => this.onCircuitChange(open, reason),
      starting,
    );
    this.inFallback = metrics.gauge(
      'lattice_rate_limit_fallback',
      '1 while Redis is unreachable and the limiter runs in process (fail open) or refuses (fail closed)',
    );
    this.fallbacks = metrics.counter(
      'lattice_rate_limit_fallbacks_total',
      'Times the limiter stopped using Redis and decided without it until it answered again: each failure or missed deadline, and a start that decided requests before its connection was up',
    );
    this.inFallback.set(this.circuit.isOpen ? 1 : 0);
    // Not connected yet (the app is starting): close the circuit the moment the connection
    // is up, even if the first probe gave up waiting, so that no early request counts in memory.
    this.circuit.probeNow();
    // eslint-disable-next-line no-restricted-syntax -- the connection's state, no command
    if (this.circuit.isOpen) redis.client.once('ready', () => this.circuit.probeNow());
  }

  /** Whether decisions are currently taken by Redis (false while it is unreachable). */
  get usingRedis(): boolean {
    return !this.circuit.isOpen;
  }

  /** Where the next decision is taken; see RateLimitService.state. */
  get state(): RateLimitState {
    const failMode = this.failOpen ? 'open' : 'closed';
    const since = this.circuit.openedAt;
    if (since === null) return { mode: 'redis', failMode };
    return { mode: this.failOpen ? 'memory' : 'unavailable', failMode, since };
  }

  /** True when Redis may be called now; false means the caller decides withoutRedis(). */
  allows(now: number): boolean {
    return this.circuit.allows(now);
  }

  /** A Redis call failed: decisions are taken without Redis until a probe gets through. */
  failed(now: number, error: unknown): void {
    this.circuit.open(now, error);
  }

  /**
   * While Redis is unreachable: this instance's own count (fail open), or
   * undefined, to be refused with 503 (fail closed).
   */
  withoutRedis(
    key: string,
    policy: WindowPolicy,
    cost: number,
    shadow: boolean,
  ): WindowResult | undefined {
    // A shadow policy never refuses, not even with 503.
    if (!this.failOpen && !shadow) return undefined;
    return this.memory.consume(key, policy, Date.now(), cost);
  }

  /** Stops the circuit's background probes (at shutdown). */
  stop(): void {
    this.circuit.stop();
  }

  private onCircuitChange(open: boolean, reason?: unknown): void {
    this.inFallback.set(open ? 1 : 0);
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
