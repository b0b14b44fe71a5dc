import { Module } from '@nestjs/common';
import { RateLimitOverridesController } from './rate-limit-overrides.controller';

/**
 * The admin API of the rate limiter's run-time overrides, /api/rate-limits.
 * RateLimitOverrides comes from RateLimitModule (PlatformModule has it).
 */
@Module({ controllers: [RateLimitOverridesController] })
export class RateLimitsModule {}
