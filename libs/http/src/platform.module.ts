import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ZodValidationPipe } from '@lattice/api';
import { ConfigModule, type Config } from '@lattice/config';
import { HealthModule } from '@lattice/health';
import { ObservabilityModule } from '@lattice/observability';
import { RateLimitGuard, RateLimitModule, type RateLimitPolicy } from '@lattice/rate-limit';
import { LockModule } from '@lattice/lock';
import { RedisModule } from '@lattice/redis';
import { AuthGuard, SessionModule } from '@lattice/session';
import { GlobalExceptionFilter } from './global-exception.filter';

/**
 * What every app is made of: configuration, logs and metrics, Redis, health,
 * rate limits, locks, shared sessions, and the HTTP conventions (error body,
 * validation, the rate-limit and auth guards) registered as APP_* providers so
 * test apps get them too. It re-exports the platform's modules to the app's
 * root module; a feature module imports the lib modules it uses (RedisModule,
 * LockModule, ...), which are static, so the app still has one of each
 * provider.
 */
@Module({})
export class PlatformModule {
  /** `rateLimitPolicies`: the app's named rate-limit policies, beside the environment's. */
  static forRoot(
    config: Config,
    options: { rateLimitPolicies?: RateLimitPolicy[] } = {},
  ): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(),
        RedisModule,
        HealthModule,
        RateLimitModule.forRoot({ policies: options.rateLimitPolicies }),
        RateLimitModule,
        LockModule,
        SessionModule,
      ],
      exports: [
        ObservabilityModule,
        RedisModule,
        HealthModule,
        RateLimitModule,
        LockModule,
        SessionModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        // Global guards run in this order. The session is already resolved (an
        // onRequest hook), so limits key signed-in callers by user.
        // Every route is limited unless it says otherwise (@RateLimit, @SkipRateLimit).
        { provide: APP_GUARD, useClass: RateLimitGuard },
        // Every route needs a session unless it is @Public(); @Roles() adds roles.
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }
}
