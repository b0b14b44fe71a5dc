import { Module } from '@nestjs/common';

/**
 * What `RateLimitModule.forRoot(options)` and `forRootAsync` return: the
 * app's rate-limit options (its named policies and tuning), given once at its
 * root. RateLimitService itself stays in RateLimitModule, which each user imports.
 */
@Module({})
export class RateLimitRootModule {}
