import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisService } from './redis.service';

export const READINESS_PING_TIMEOUT_MS = 500;

/** Readiness: a PING through the app's own command connection, bounded in time. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisService,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const session = this.indicator.check(key);
    const ok = await this.redis.ping(READINESS_PING_TIMEOUT_MS);
    return ok ? session.up() : session.down({ message: 'Redis did not answer in time' });
  }
}
