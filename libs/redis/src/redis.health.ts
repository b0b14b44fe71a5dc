import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { evictionWarning, SAFE_MEMORY_POLICY } from './memory-policy';
import { RedisService } from './redis.service';

export const READINESS_PING_TIMEOUT_MS = 500;

/**
 * Readiness: a PING through the app's own command connection, bounded in
 * time. The report also gives Redis's `maxmemory-policy` (null when CONFIG is
 * refused) and, when it lets Redis evict keys, a `warning`: the app still
 * works (ready), but Redis may drop accounts, sessions or locks.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisService,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const session = this.indicator.check(key);
    const [ok, maxmemoryPolicy] = await Promise.all([
      this.redis.ping(READINESS_PING_TIMEOUT_MS),
      this.redis.memoryPolicy(READINESS_PING_TIMEOUT_MS),
    ]);
    if (!ok) return session.down({ message: 'Redis did not answer in time' });
    const evicting = maxmemoryPolicy !== null && maxmemoryPolicy !== SAFE_MEMORY_POLICY;
    return session.up({
      maxmemoryPolicy,
      ...(evicting ? { warning: evictionWarning(maxmemoryPolicy) } : {}),
    });
  }
}
