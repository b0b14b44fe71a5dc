import { Module } from '@nestjs/common';
import { RateLimitModule } from '@lattice/rate-limit';
import { RateLimitOverridesController } from './rate-limit-overrides.controller';

/** The admin API of the rate limiter's run-time overrides (RateLimitOverrides), /api/rate-limits. */
@Module({ imports: [RateLimitModule], controllers: [RateLimitOverridesController] })
export class RateLimitsModule {}
